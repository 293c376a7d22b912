"""Changing cells.yml's list keeps every line the change does not touch: other entries as written
(quotes and all), comments between entries, the heading and whatever follows the list."""

from __future__ import annotations

import yaml

from producers.content.yamledit import replace_list

CELLS = """\
# Grassroots cells. A session folder is named <cell id>-<topic>.
cells:
  - id: ha-long
    name: "Chi bộ khu phố 4"   # the ward's own spelling
    language: vi
  # Huế's cell, since 2020
  - id: hue-heritage
    name: "Chi bộ Di sản Cố đô"
    language: vi

  - id: varanasi-ghats
    name: 'अस्सी घाट प्राथमिक इकाई'
    language: hi
# kept at the end
"""


def items() -> list[dict]:
    return yaml.safe_load(CELLS)["cells"]


def test_an_unchanged_list_leaves_the_file_byte_for_byte():
    assert replace_list(CELLS, "cells", items()) == CELLS


def test_a_changed_entry_is_the_only_lines_that_change():
    changed = items()
    changed[1]["name"] = "Chi bộ Di sản: Huế"
    new = replace_list(CELLS, "cells", changed)
    assert new == CELLS.replace('    name: "Chi bộ Di sản Cố đô"\n', "    name: 'Chi bộ Di sản: Huế'\n")
    assert yaml.safe_load(new)["cells"] == changed


def test_an_added_entry_goes_after_the_last_at_the_lists_indent():
    added = items() + [{"id": "tay-ho", "name": "Chi bộ Tây Hồ", "language": "vi"}]
    new = replace_list(CELLS, "cells", added)
    assert new == CELLS.replace("# kept at the end\n", "  - id: tay-ho\n    name: Chi bộ Tây Hồ\n    language: vi\n"
                                                      "# kept at the end\n")
    assert yaml.safe_load(new)["cells"] == added


def test_a_removed_entry_takes_its_own_comment_and_nothing_else():
    new = replace_list(CELLS, "cells", [cell for cell in items() if cell["id"] != "hue-heritage"])
    assert new == CELLS.replace('  # Huế\'s cell, since 2020\n  - id: hue-heritage\n    name: "Chi bộ Di sản Cố đô"\n'
                                "    language: vi\n", "")


def test_a_flow_list_or_none_is_written_whole_after_the_heading():
    assert replace_list("# heading\ncells: [{id: a}]\n", "cells", [{"id": "a"}, {"id": "b"}]) == \
        "# heading\ncells:\n- id: a\n- id: b\n"
    assert replace_list("# heading\n", "cells", [{"id": "a"}]) == "# heading\ncells:\n- id: a\n"


def test_keys_after_the_list_stay():
    text = "cells:\n- id: a\n- id: b\nother: 1\n"
    assert replace_list(text, "cells", [{"id": "a"}, {"id": "b"}, {"id": "c"}]) == \
        "cells:\n- id: a\n- id: b\n- id: c\nother: 1\n"
