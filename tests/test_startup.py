"""How `dlgrade check` starts (issue 16): the sandbox's probe and warm worker start before
dlgrade's own imports, and a command loads only its own module's machinery."""

from __future__ import annotations

import json
import subprocess
import sys

from dlgrade.cli import COMMAND_MODULES, main
from fixture_course import FIXTURE

PROGRAM = """
import json, sys
sys.argv = ["dlgrade", *json.loads(sys.argv[1])]
import dlgrade.cli
from dlgrade.sandbox import runner, zygote
started_early = bool(zygote.EARLY)
try:
    dlgrade.cli.main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "early": started_early, "left": sorted(map(str, zygote.EARLY)),
                  "taken": [list(k) for k in runner._zygotes],
                  "modules": sorted(m for m in sys.modules if m.startswith(("dlgrade", "torch")))}))
"""


def _run(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROGRAM, json.dumps(list(args))],
                          capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_command_is_listed_in_command_modules():
    from importlib import import_module

    defined = {c.name: module for module in set(COMMAND_MODULES.values())
               for c in import_module(f"dlgrade.cli.{module}").COMMANDS}
    assert defined == COMMAND_MODULES
    assert sorted(main.list_commands(None)) == sorted(COMMAND_MODULES)


def test_check_starts_its_worker_early_and_loads_only_what_it_needs():
    found = _run("check", str(FIXTURE / "students" / "right"), "--course", str(FIXTURE),
                 "-q")
    assert found["code"] == 0
    assert found["early"] and found["left"] == [] and found["taken"] == [["numpy"]]
    for unwanted in ("dlgrade.integrations.gradescope", "dlgrade.integrations.nbgrader_source",
                     "dlgrade.grading.similarity", "dlgrade.cli.gradescope",
                     "dlgrade.cli.course", "torch"):
        assert unwanted not in found["modules"], unwanted


def test_other_commands_start_nothing_early():
    found = _run("list", "--course", str(FIXTURE))
    assert found["code"] == 0 and not found["early"] and found["taken"] == []
