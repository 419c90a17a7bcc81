#!/usr/bin/env python3
"""Tests of scripts/check-format.sh (clang-format on changed lines) in a throwaway git repository
holding a copy of the script and the project's .clang-format. Standard library only."""

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

UNFORMATTED_LINE = "int   g( int a ){return a+1;}\n"


class FormatGateTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="crm-format-gate-")
        self.root = Path(self.tmp.name)
        (self.root / "scripts").mkdir()
        shutil.copy(REPO / "scripts" / "check-format.sh", self.root / "scripts")
        shutil.copy(REPO / ".clang-format", self.root)
        # An old file that is not formatted: untouched lines are not checked.
        (self.root / "old.cpp").write_text("int  f( ){return 0;}\n")
        self.git("init", "-q", "-b", "main")
        self.git("add", ".")
        self.git("commit", "-q", "-m", "base")

    def tearDown(self):
        self.tmp.cleanup()

    def git(self, *args):
        env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
        subprocess.run(["git", *args], cwd=self.root, check=True, env=env, capture_output=True)

    def gate(self):
        env = {k: v for k, v in os.environ.items() if k != "CRM_FORMAT_BASE"}
        r = subprocess.run(["bash", "scripts/check-format.sh"], cwd=self.root, env=env,
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def commit_on_branch(self, name, text):
        self.git("checkout", "-q", "-b", "work")
        (self.root / name).write_text(text)
        self.git("add", name)
        self.git("commit", "-q", "-m", "change")

    def test_formatted_change_passes_and_old_lines_are_not_checked(self):
        self.commit_on_branch("new.cpp", "int g(int a) {\n    return a + 1;\n}\n")
        rc, out = self.gate()
        self.assertEqual(rc, 0, out)
        self.assertIn("1 changed C++ files checked (changes since main", out)

    def test_unformatted_change_fails_with_file_and_excerpt(self):
        self.commit_on_branch("new.cpp", UNFORMATTED_LINE)
        rc, out = self.gate()
        self.assertEqual(rc, 1, out)
        self.assertIn("new.cpp: not formatted", out)
        self.assertIn("-int   g( int a ){return a+1;}", out)
        self.assertIn("+    return a + 1;", out)
        self.assertNotIn("old.cpp", out)

    def test_on_main_the_last_commit_is_checked(self):
        (self.root / "new.cpp").write_text(UNFORMATTED_LINE)
        self.git("add", "new.cpp")
        self.git("commit", "-q", "-m", "on main")
        rc, out = self.gate()
        self.assertEqual(rc, 1, out)
        self.assertIn("the last commit", out)

    def test_root_commit_checks_nothing(self):
        rc, out = self.gate()
        self.assertEqual(rc, 0, out)
        self.assertIn("nothing checked", out)


if __name__ == "__main__":
    unittest.main()
