// Package styles reads list styles: named sets of settings, and the list
// keys to make, that a new list is given (after Mailman 3's list styles).
package styles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"cloister/etc"
	"cloister/internal/site"
	"cloister/lists"
)

// A Style is a named set of settings, and the list keys to make, that
// `list create --style` gives a new list (after Mailman 3's list styles).
// Built-in styles live in etc/styles; a site adds or overrides them with
// files of the same form in the directory styles/ next to cloister.toml.
//
// A style file has one directive per line; # starts a comment:
//
//	title ONE LINE SAYING WHAT THE LIST IS
//	key openpgp|smime
//	set SETTING VALUE
type Style struct {
	Name   string
	Title  string
	Source string      // "built-in" or the site file's path
	Keys   []string    // openpgp, smime, in file order
	Sets   [][2]string // setting, value, in file order
}

var styleNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// SiteDir is the directory of a site's own styles: styles/ beside
// cloister.toml.
func SiteDir(s *site.Site) string {
	if s.Config.Path == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(s.Config.Path), "styles")
}

// Parse reads a style file; every error names the line.
func Parse(name, source string, data []byte) (*Style, error) {
	st := &Style{Name: name, Source: source}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		bad := func(format string, args ...any) error {
			return fmt.Errorf("style %s (%s) line %d: %s", name, source, i+1, fmt.Sprintf(format, args...))
		}
		switch verb {
		case "title":
			st.Title = rest
		case "key":
			if rest != "openpgp" && rest != "smime" {
				return nil, bad("key %q: want openpgp or smime", rest)
			}
			if !slices.Contains(st.Keys, rest) {
				st.Keys = append(st.Keys, rest)
			}
		case "set":
			setting, value, ok := strings.Cut(rest, " ")
			if !ok {
				return nil, bad("set needs a setting and a value")
			}
			var probe lists.Settings
			if err := probe.Set(setting, strings.TrimSpace(value)); err != nil {
				return nil, bad("%v", err)
			}
			st.Sets = append(st.Sets, [2]string{setting, strings.TrimSpace(value)})
		default:
			return nil, bad("unknown directive %q (want title, key or set)", verb)
		}
	}
	if st.Title == "" {
		return nil, fmt.Errorf("style %s (%s): no title line", name, source)
	}
	return st, nil
}

// Load finds a style by name: the site's file first, then the built-in.
func Load(s *site.Site, name string) (*Style, error) {
	if !styleNameRE.MatchString(name) {
		return nil, fmt.Errorf("style name %q: use lower-case letters, digits, - and _", name)
	}
	if dir := SiteDir(s); dir != "" {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err == nil {
			return Parse(name, path, data)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read style %s: %w", path, err)
		}
	}
	data, err := etc.Styles.ReadFile("styles/" + name)
	if err != nil {
		return nil, fmt.Errorf("no style %s (see cloister list styles)", name)
	}
	return Parse(name, "built-in", data)
}

// All returns every style, built-in and site, by name; a site file
// replaces the built-in of its name.
func All(s *site.Site) ([]*Style, error) {
	names := map[string]bool{}
	entries, err := fs.ReadDir(etc.Styles, "styles")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		names[e.Name()] = true
	}
	if dir := SiteDir(s); dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read site styles %s: %w", dir, err)
		}
		for _, e := range entries {
			if !e.IsDir() && styleNameRE.MatchString(e.Name()) {
				names[e.Name()] = true
			}
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var out []*Style
	var errs []error
	for _, n := range sorted {
		st, err := Load(s, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, st)
	}
	return out, errors.Join(errs...)
}

// Apply sets the style's settings on a list; check, when not nil, is
// called after each setting (the caller checks that a scenario setting
// names a scenario that exists).
func (st *Style) Apply(l *lists.List, check func(setting string, st lists.Settings) error) error {
	for _, kv := range st.Sets {
		if err := l.Settings.Set(kv[0], kv[1]); err != nil {
			return fmt.Errorf("style %s: %w", st.Name, err)
		}
		if check == nil {
			continue
		}
		if err := check(kv[0], l.Settings); err != nil {
			return fmt.Errorf("style %s: %w", st.Name, err)
		}
	}
	return nil
}
