"""Content as data: flows, locales and contacts loaded from YAML and validated once.

`load_content(root)` reads ``flows/``, ``locales/<lang>/`` and ``contacts/`` (file and line
for every problem) into a :class:`Content` the rest of the code trusts.
"""

from ._conditions import Condition
from ._flows import Ask, Block, Choice, Flow, State
from ._loader import MENU_FLOW, Content, load_content

__all__ = ["MENU_FLOW", "Ask", "Block", "Choice", "Condition", "Content", "Flow", "State",
           "load_content"]
