package rules

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"cloister/etc"
)

// ErrScenarioName is returned for a scenario name that is not
// <operation>.<name> with a known operation and a plain name.
var ErrScenarioName = errors.New("bad scenario name")

// ErrScenarioNotFound is returned when neither the site directory nor the
// built-ins hold a scenario.
var ErrScenarioNotFound = errors.New("no such scenario")

// scenarioNameRE is the shape of a scenario file name: operation, dot, name.
// It admits no path separators, dots or editor backup suffixes in the name.
var scenarioNameRE = regexp.MustCompile(`^([a-z]+)\.([A-Za-z0-9][A-Za-z0-9_-]{0,63})$`)

// ScenarioSet finds scenarios by name: a file in the site directory overrides
// the built-in of the same name. Built-ins are parsed once; a site file is
// parsed again when its size or modification time changes, so an edited file
// takes effect without a restart. Safe for concurrent use.
type ScenarioSet struct {
	builtin fs.FS
	siteDir string

	mu    sync.Mutex
	cache map[string]cachedScenario
}

// cachedScenario remembers a parsed scenario and the file state it came from.
type cachedScenario struct {
	s       *Scenario
	site    bool
	size    int64
	modTime time.Time
}

// NewScenarioSet returns the built-in scenarios embedded from etc/scenarios,
// overridden by the files of siteDir ("" for none).
func NewScenarioSet(siteDir string) *ScenarioSet {
	sub, err := fs.Sub(etc.Scenarios, "scenarios")
	if err != nil {
		panic(fmt.Sprintf("embedded scenarios: %v", err)) // cannot happen: the path is a constant
	}
	return NewScenarioSetFS(sub, siteDir)
}

// NewScenarioSetFS is NewScenarioSet with the built-ins taken from the top
// level of builtin instead of the embedded files.
func NewScenarioSetFS(builtin fs.FS, siteDir string) *ScenarioSet {
	return &ScenarioSet{builtin: builtin, siteDir: siteDir, cache: map[string]cachedScenario{}}
}

// ValidScenarioName checks that name is <operation>.<name> with a known
// operation, for example "send.private".
func ValidScenarioName(name string) error {
	m := scenarioNameRE.FindStringSubmatch(name)
	if m == nil || !slices.Contains(ScenarioOperations(), m[1]) {
		return fmt.Errorf("%q: %w: want <operation>.<name> with operation one of %s",
			name, ErrScenarioName, strings.Join(ScenarioOperations(), ", "))
	}
	return nil
}

// Get returns the scenario called name (for example "send.private"): the site
// file if there is one, else the built-in. A site file that fails to parse is
// an error, never silently replaced by the built-in.
func (ss *ScenarioSet) Get(name string) (*Scenario, error) {
	if err := ValidScenarioName(name); err != nil {
		return nil, fmt.Errorf("get scenario: %w", err)
	}
	if ss.siteDir != "" {
		path := filepath.Join(ss.siteDir, name)
		fi, err := os.Stat(path)
		switch {
		case err == nil:
			return ss.getSite(name, path, fi)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("get scenario %s: %w", name, err)
		}
	}
	ss.mu.Lock()
	c, ok := ss.cache[name]
	ss.mu.Unlock()
	if ok && !c.site {
		return c.s, nil
	}
	src, err := fs.ReadFile(ss.builtin, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get scenario %s: %w", name, ErrScenarioNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get scenario %s: %w", name, err)
	}
	s, err := ParseScenario(name, src)
	if err != nil {
		return nil, fmt.Errorf("built-in scenario %s: %w", name, err)
	}
	ss.mu.Lock()
	ss.cache[name] = cachedScenario{s: s}
	ss.mu.Unlock()
	return s, nil
}

// getSite returns the parsed site file, from the cache when unchanged.
func (ss *ScenarioSet) getSite(name, path string, fi fs.FileInfo) (*Scenario, error) {
	ss.mu.Lock()
	c, ok := ss.cache[name]
	ss.mu.Unlock()
	if ok && c.site && c.size == fi.Size() && c.modTime.Equal(fi.ModTime()) {
		return c.s, nil
	}
	s, err := parseScenarioFile(path, name)
	if err != nil {
		return nil, fmt.Errorf("site scenario %s: %w", name, err)
	}
	ss.mu.Lock()
	ss.cache[name] = cachedScenario{s: s, site: true, size: fi.Size(), modTime: fi.ModTime()}
	ss.mu.Unlock()
	return s, nil
}

// parseScenarioFile reads and parses a scenario file, refusing oversize files
// without reading them whole. Errors name the file as given in path.
func parseScenarioFile(path, name string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxScenarioSize+1))
	if err != nil {
		return nil, fmt.Errorf("read scenario %s: %w", path, err)
	}
	s, err := ParseScenario(path, src)
	if err != nil {
		return nil, err
	}
	s.Name = name
	return s, nil
}

// Names returns the names of every scenario for operation (for example
// "send"), built-in and site, sorted and without duplicates.
func (ss *ScenarioSet) Names(operation string) []string {
	var names []string
	add := func(n string) {
		if strings.HasPrefix(n, operation+".") && ValidScenarioName(n) == nil {
			names = append(names, n)
		}
	}
	if entries, err := fs.ReadDir(ss.builtin, "."); err == nil {
		for _, e := range entries {
			if !e.IsDir() {
				add(e.Name())
			}
		}
	}
	if ss.siteDir != "" {
		if entries, err := os.ReadDir(ss.siteDir); err == nil {
			for _, e := range entries {
				if !e.IsDir() {
					add(e.Name())
				}
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Check parses the scenario file at path, as `cloister scenario check FILE`
// does, and returns every problem at once: each parse error with its line and
// column, and a file name that a site directory would not load.
func (ss *ScenarioSet) Check(path string) error {
	var errs []error
	base := filepath.Base(path)
	if err := ValidScenarioName(base); err != nil {
		errs = append(errs, &ScenarioError{File: path, Line: 1, Col: 1,
			Msg: fmt.Sprintf("file name %q is not <operation>.<name> (operations: %s); a site directory would ignore it",
				base, strings.Join(ScenarioOperations(), ", "))})
	}
	if _, err := parseScenarioFile(path, base); err != nil {
		var se ScenarioErrors
		if errors.As(err, &se) {
			for _, e := range se {
				errs = append(errs, e)
			}
		} else {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CheckAll parses every built-in and every site scenario, for `cloister
// check`, and returns every problem at once.
func (ss *ScenarioSet) CheckAll() error {
	var errs []error
	for _, op := range ScenarioOperations() {
		for _, n := range ss.Names(op) {
			if _, err := ss.Get(n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if ss.siteDir != "" {
		entries, err := os.ReadDir(ss.siteDir)
		if err != nil {
			errs = append(errs, fmt.Errorf("scenario directory: %w", err))
		}
		for _, e := range entries {
			if !e.IsDir() && ValidScenarioName(e.Name()) != nil && !strings.HasPrefix(e.Name(), ".") {
				errs = append(errs, fmt.Errorf("scenario directory %s: %w", ss.siteDir, ValidScenarioName(e.Name())))
			}
		}
	}
	return errors.Join(errs...)
}
