package commands

import (
	"runtime/debug"
)

// Version tells which Cloister the list runs (Schleuder's x-get-version).
type Version struct{}

// Name implements Command.
func (Version) Name() string { return "version" }

// Aliases implements Command.
func (Version) Aliases() []string { return []string{"x-get-version"} }

// Args implements Command.
func (Version) Args() string { return "" }

// Help implements Command.
func (Version) Help() string { return "which version of Cloister this list runs" }

// Operation implements Command.
func (Version) Operation() string { return "" }

// Run implements Command.
func (Version) Run(c *Context, args []string) Result { return done("%s", VersionText()) }

// VersionText names the build: Cloister's module version and, when the
// binary was built from a checkout, its revision.
func VersionText() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "Cloister (version unknown)"
	}
	v := "Cloister " + info.Main.Version
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v += ", revision " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += " (modified)"
			}
		}
	}
	return v + ", built with " + info.GoVersion
}
