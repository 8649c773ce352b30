"""tests/integration/test_deploy.py: make install with PREFIX/SYSCONFDIR/DESTDIR puts every file
where it says with its paths rewritten; the installed unit passes systemd-analyze verify and
systemd-analyze security under the recorded exposure; the installed binary serves the installed
web root with the installed example configuration."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BUILD, IO_DEADLINE, REPO, Server

EXPOSURE_MAX = 20  # tenths: 2.0; measured 1.1 (docs/deploy.md)


def tool(name):
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} not found (apt-get install -y systemd)")
    return path


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stage = tempfile.mkdtemp()
        r = subprocess.run(["make", "-s", "--no-print-directory", f"BUILD={BUILD}", "install",
                            f"DESTDIR={cls.stage}", "PREFIX=/opt/epws", "SYSCONFDIR=/opt/epws/etc"],
                           cwd=REPO, capture_output=True, timeout=600)
        if r.returncode != 0:
            raise AssertionError(f"make install: {r.stdout!r} {r.stderr!r}")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.stage)

    def path(self, p):
        return os.path.join(self.stage, p.lstrip("/"))

    def test_every_file_is_installed_with_its_paths_rewritten(self):
        for p in ["/opt/epws/bin/epws", "/opt/epws/share/epws/web/index.html",
                  "/opt/epws/share/doc/epws/epws-help.txt", "/opt/epws/share/doc/epws/deploy.md",
                  "/opt/epws/etc/epws/epws.conf", "/opt/epws/lib/systemd/system/epws.service"]:
            self.assertTrue(os.path.exists(self.path(p)), p)
        self.assertTrue(os.access(self.path("/opt/epws/bin/epws"), os.X_OK))
        unit = open(self.path("/opt/epws/lib/systemd/system/epws.service")).read()
        self.assertIn("ExecStart=/opt/epws/bin/epws --config /opt/epws/etc/epws/epws.conf", unit)
        settings = [l for l in unit.splitlines() if not l.startswith("#")]
        self.assertFalse([l for l in settings if "/usr/local" in l or " /etc/epws" in l or ":/etc/epws" in l], settings)
        conf = open(self.path("/opt/epws/etc/epws/epws.conf")).read()
        self.assertIn('web-root = "/opt/epws/share/epws/web"', conf)
        with open(self.path("/opt/epws/share/doc/epws/epws-help.txt")) as f:
            self.assertIn("--config FILE", f.read())

    def test_the_unit_passes_systemd_analyze_verify_and_security(self):
        unit = self.path("/opt/epws/lib/systemd/system/epws.service")
        # verify checks that ExecStart exists: point it at the staged binary.
        text = open(unit).read().replace("/opt/epws/bin/epws", self.path("/opt/epws/bin/epws"))
        staged = os.path.join(self.stage, "epws.service")
        with open(staged, "w") as f:
            f.write(text)
        r = subprocess.run([tool("systemd-analyze"), "verify", staged], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), b"", "verify printed warnings")
        r = subprocess.run([tool("systemd-analyze"), "security", "--offline=true",
                            f"--threshold={EXPOSURE_MAX}", staged], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:])
        self.assertIn(b"Overall exposure level for epws.service", r.stdout)

    def test_the_installed_binary_serves_the_installed_web_root_with_the_example_config(self):
        web = self.path("/opt/epws/share/epws/web")
        # The example names the final web root, which a staged install does not have yet (and
        # --web-root must be a directory): point a copy at the staged one.
        conf = os.path.join(self.stage, "epws.conf")
        with open(self.path("/opt/epws/etc/epws/epws.conf")) as f:
            text = f.read().replace('"/opt/epws/share/epws/web"', f'"{web}"')
        with open(conf, "w") as f:
            f.write(text)
        old = os.environ.get("EPWS_BIN")
        os.environ["EPWS_BIN"] = self.path("/opt/epws/bin/epws")
        try:
            # The example binds fixed ports: the flags put them on free ones (flags win).
            with Server("--config", conf, "--metrics-port", "0") as s:
                status, _, body = s.http_get("/")
                self.assertEqual(status, 200)
                self.assertIn(b"<html", body.lower())
        finally:
            if old is None:
                del os.environ["EPWS_BIN"]
            else:
                os.environ["EPWS_BIN"] = old


if __name__ == "__main__":
    unittest.main()
