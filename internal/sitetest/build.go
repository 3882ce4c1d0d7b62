package sitetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Binaries are the built cloister and deliver commands.
type Binaries struct {
	Cloister, Deliver string
}

// Build compiles cmd/cloister and cmd/deliver with the build tags (e.g.
// faultinject) into dir, linked as make build links them (CGO_ENABLED=0).
// It returns an error rather than failing a test so that a TestMain can
// build once for a whole package.
func Build(dir string, tags ...string) (Binaries, error) {
	b := Binaries{Cloister: filepath.Join(dir, "cloister"), Deliver: filepath.Join(dir, "deliver")}
	for _, bin := range []struct{ out, pkg string }{{b.Cloister, "cloister/cmd/cloister"}, {b.Deliver, "cloister/cmd/deliver"}} {
		cmd := exec.Command("go", "build", "-tags", strings.Join(tags, ","), "-o", bin.out, bin.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("build %s: %v\n%s", bin.pkg, err, out)
		}
	}
	return b, nil
}
