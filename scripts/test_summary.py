# SPDX-License-Identifier: MIT
"""Sum the JUnit reports in a directory (cmocka, pytest, and the ones
scripts/test.sh writes itself); print failures, a line per report and
"N passed, N failed, N skipped". Exit 1 if anything failed or nothing ran."""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(results):
    passed = failed = skipped = 0
    for path in sorted(Path(results).glob("*.xml")):
        root = ET.parse(path).getroot()
        cases = root.iter("testcase")
        p = f = s = 0
        for case in cases:
            if case.find("failure") is not None or case.find("error") is not None:
                f += 1
                print(f"FAILED {path.stem}: {case.get('classname', '')}::{case.get('name')}")
            elif case.find("skipped") is not None:
                s += 1
            else:
                p += 1
        print(f"  {path.stem}: {p} passed, {f} failed, {s} skipped")
        passed, failed, skipped = passed + p, failed + f, skipped + s
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
