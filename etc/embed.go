// Package etc embeds the files of the etc/ tree that the binaries need at run
// time, so an installed cloister works without a copy of the source tree.
package etc

import "embed"

// Scenarios holds the built-in authorization scenarios, one file per scenario
// named <operation>.<name> under scenarios/ (see docs/scenarios.md).
//
//go:embed scenarios/*
var Scenarios embed.FS

// Templates holds the built-in notice templates (text/template), one file
// per notice named templates/<language>/<notice>.tmpl; a site or a list
// overrides them with files of the same name (see docs/owners.md).
//
//go:embed templates
var Templates embed.FS

// Styles holds the built-in list styles, one file per style under styles/
// (see docs/operators.md): the settings, and the keys, that
// `cloister list create LIST --style NAME` gives a new list.
//
//go:embed styles/*
var Styles embed.FS
