"""One module per concept tab. Each exposes TITLE, TAB_ID, CSS and render(demo).

To add a tab: write tabs/<concept>.py and add its module to TABS, in the order the tabs appear.
"""

from tabs import tokenizers

TABS = [tokenizers]
