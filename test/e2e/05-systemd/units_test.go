// Package systemdunits checks the shipped systemd units as an operator would
// install them:
//
//	etc/systemd/cloister-runner@.service, cloister.target
//	  -> copy with ExecStart pointing at the built cloister binary
//	  -> systemd-analyze verify (no running systemd needed): no warning at all
//
// and that the target wants one instance per runner, and that the sandbox
// and credential lines the operator's guide promises are there.
package systemdunits

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/runners"
	"cloister/test/e2e/harness"
)

// units are the unit files etc/systemd ships.
var units = []string{"cloister-runner@.service", "cloister.target", "cloister-expire.service", "cloister-expire.timer", "cloister-metrics.service", "cloister-api.service", "cloister-web.service", "cloister-socketmap.service"}

// installUnits copies the units into dir with ExecStart pointing at bin.
func installUnits(t *testing.T, dir, bin string) {
	t.Helper()
	src := filepath.Join(testdirs.Root(t), "etc", "systemd")
	for _, name := range units {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), "/usr/local/bin/cloister", bin)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, dir string, units ...string) (string, error) {
	t.Helper()
	var paths []string
	for _, u := range units {
		paths = append(paths, filepath.Join(dir, u))
	}
	cmd := exec.Command("systemd-analyze", append([]string{"verify"}, paths...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatalf("systemd-analyze is not installed: run test/setup.sh (make test does)")
	}
	dir := t.TempDir()
	bins := harness.Build(t, filepath.Join(dir, "bin"))
	units := filepath.Join(dir, "units")
	os.Mkdir(units, 0o755)
	installUnits(t, units, bins.Cloister)

	all := []string{"cloister.target", "cloister-expire.service", "cloister-expire.timer", "cloister-metrics.service", "cloister-api.service", "cloister-web.service", "cloister-socketmap.service"}
	for _, r := range runners.All {
		all = append(all, "cloister-runner@"+r.Name()+".service")
	}
	out, err := verify(t, units, all...)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}

	t.Run("a broken ExecStart is caught", func(t *testing.T) {
		// The check above can fail: a unit whose binary is missing does not verify.
		bad := filepath.Join(dir, "bad")
		os.Mkdir(bad, 0o755)
		installUnits(t, bad, filepath.Join(dir, "no-such-cloister"))
		if out, err := verify(t, bad, "cloister-runner@incoming.service"); err == nil {
			t.Fatalf("verify accepted a missing binary:\n%s", out)
		}
	})
}

// TestTargetWantsEveryRunner checks cloister.target starts one instance of
// every runner the binary has, and nothing else.
func TestTargetWantsEveryRunner(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testdirs.Root(t), "etc", "systemd", "cloister.target"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range regexp.MustCompile(`cloister-runner@([a-z]+)\.service`).FindAllStringSubmatch(string(b), -1) {
		got[m[1]] = true
	}
	for _, r := range runners.All {
		if !got[r.Name()] {
			t.Errorf("cloister.target does not want the %s runner", r.Name())
		}
		delete(got, r.Name())
	}
	for name := range got {
		t.Errorf("cloister.target wants an unknown runner %q", name)
	}
}

// TestUnitHardening checks the settings that docs/operators.md and
// docs/security.md promise, in every service.
func TestUnitHardening(t *testing.T) {
	for _, unit := range []string{"cloister-runner@.service", "cloister-expire.service", "cloister-metrics.service", "cloister-api.service", "cloister-web.service", "cloister-socketmap.service"} {
		t.Run(unit, func(t *testing.T) { checkHardening(t, unit) })
	}
	b, err := os.ReadFile(filepath.Join(testdirs.Root(t), "etc", "systemd", "cloister-runner@.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "WatchdogSec=120s",
		"LoadCredential=keyring-passphrase:/etc/cloister/credentials/keyring-passphrase",
		"LoadCredential=queue-key:/etc/cloister/credentials/queue-key"} {
		if !strings.Contains(string(b), "\n"+want+"\n") {
			t.Errorf("cloister-runner@.service lacks %q", want)
		}
	}
}

func checkHardening(t *testing.T, unit string) {
	b, err := os.ReadFile(filepath.Join(testdirs.Root(t), "etc", "systemd", unit))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{
		"User=cloister",
		"NoNewPrivileges=yes",
		"ProtectSystem=strict",
		"ReadWritePaths=/var/lib/cloister",
		"PrivateTmp=yes",
		"ProtectHome=yes",
		"CapabilityBoundingSet=",
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
		"SystemCallFilter=@system-service",
	} {
		if !lines[want] {
			t.Errorf("%s lacks %q", unit, want)
		}
	}
}
