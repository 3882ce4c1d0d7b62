package testdirs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// assertAllowed names each type assertion to one of the module's interfaces
// that is allowed, by "file: Interface", with why. An interface of ours
// says what a value can do, and a value that might do more is given a
// wider interface, not asserted to one (a failed assertion silently
// switches a feature off); what is allowed here asserts on a value of the
// standard library's types, whose interface is not ours to widen.
var assertAllowed = map[string]string{
	"keyring/listsmime.go: keyring.equaler": "crypto.PublicKey is the standard library's any; its documentation " +
		"promises Equal on every public key type of the standard library, and a key without it compares unequal",
}

// TestNoAssertionToModuleInterface fails on a type assertion, or a type
// switch case, whose type is an interface declared in this module, in the
// module's non-test code: what a value may do beyond its interface belongs
// in the interface (every runner has Schedule; the key workflows decide key
// requests), so that nothing is switched off by an assertion that fails.
func TestNoAssertionToModuleInterface(t *testing.T) {
	pkgs := parseModule(t, Root(t))
	ifaces := moduleInterfaces(pkgs)
	if !ifaces["cloister/runners.Runner"] || !ifaces["cloister/service.KeyWorkflows"] {
		t.Fatalf("the walk found no runners.Runner or service.KeyWorkflows among %d interfaces", len(ifaces))
	}
	for _, f := range assertionsTo(pkgs, ifaces, assertAllowed) {
		t.Error(f + " (put the method in the interface instead, or name the case in assertAllowed with why)")
	}
}

// TestAssertionWalkSeesAssertions: the walk of
// TestNoAssertionToModuleInterface finds an assertion and a type switch
// case to a module interface, in its own package and through an import,
// passes over one to a standard interface, and lets an allowed case by.
func TestAssertionWalkSeesAssertions(t *testing.T) {
	files := map[string]string{
		"a/a.go": `package a
type Scheduler interface{ Schedule() }`,
		"b/b.go": `package b
import (
	"io"
	sched "cloister/a"
)
type Decider interface{ Decide() }
func f(v any) {
	_, _ = v.(sched.Scheduler)
	_, _ = v.(io.Reader)
	_, _ = v.(interface{ Decide() })
	switch v.(type) {
	case Decider, error:
	}
	_ = v.(Decider)
}`,
	}
	fset := token.NewFileSet()
	pkgs := map[string][]parsedFile{}
	for rel, src := range files {
		f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		pkgs[path.Dir(rel)] = append(pkgs[path.Dir(rel)], parsedFile{rel, fset, f})
	}
	ifaces := moduleInterfaces(pkgs)
	got := strings.Join(assertionsTo(pkgs, ifaces, map[string]string{"b/b.go: b.Decider": "a test"}), "\n")
	want := "b/b.go:8:12: asserts to a.Scheduler"
	if got != want {
		t.Fatalf("with b.Decider allowed, found\n%s\nwant\n%s", got, want)
	}
	got = strings.Join(assertionsTo(pkgs, ifaces, nil), "\n")
	want = "b/b.go:12:7: asserts to b.Decider\nb/b.go:14:9: asserts to b.Decider\nb/b.go:8:12: asserts to a.Scheduler"
	if got != want {
		t.Fatalf("found\n%s\nwant\n%s", got, want)
	}
}

// moduleInterfaces returns the interface types declared in pkgs, as
// "cloister/PKG.Name".
func moduleInterfaces(pkgs map[string][]parsedFile) map[string]bool {
	ifaces := map[string]bool{}
	for dir, files := range pkgs {
		for _, f := range files {
			ast.Inspect(f.file, func(n ast.Node) bool {
				if ts, ok := n.(*ast.TypeSpec); ok {
					if _, ok := ts.Type.(*ast.InterfaceType); ok {
						ifaces[importPath(dir)+"."+ts.Name.Name] = true
					}
				}
				return true
			})
		}
	}
	return ifaces
}

// assertionsTo returns, sorted, where pkgs type-assert (or switch on a
// case) to one of ifaces, except the cases allowed.
func assertionsTo(pkgs map[string][]parsedFile, ifaces map[string]bool, allowed map[string]string) []string {
	var found []string
	for dir, files := range pkgs {
		for _, f := range files {
			imports := map[string]string{}
			for _, im := range f.file.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				name := path.Base(p)
				if im.Name != nil {
					name = im.Name.Name
				}
				imports[name] = p
			}
			resolve := func(e ast.Expr) string {
				switch e := e.(type) {
				case *ast.Ident:
					return importPath(dir) + "." + e.Name
				case *ast.SelectorExpr:
					if x, ok := e.X.(*ast.Ident); ok && imports[x.Name] != "" {
						return imports[x.Name] + "." + e.Sel.Name
					}
				}
				return ""
			}
			report := func(e ast.Expr) {
				name := resolve(e)
				if !ifaces[name] {
					return
				}
				short := strings.TrimPrefix(name, "cloister/")
				if allowed[f.rel+": "+short] != "" {
					return
				}
				at := f.fset.Position(e.Pos())
				found = append(found, fmt.Sprintf("%s:%d:%d: asserts to %s", f.rel, at.Line, at.Column, short))
			}
			ast.Inspect(f.file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.TypeAssertExpr:
					if n.Type != nil {
						report(n.Type)
					}
				case *ast.TypeSwitchStmt:
					for _, c := range n.Body.List {
						for _, e := range c.(*ast.CaseClause).List {
							report(e)
						}
					}
				}
				return true
			})
		}
	}
	sort.Strings(found)
	return found
}

// parsedFile is one non-test Go file of the module.
type parsedFile struct {
	rel  string // path from the repository root
	fset *token.FileSet
	file *ast.File
}

// parseModule parses every non-test Go file of the module (not testdata),
// by folder relative to the root.
func parseModule(t *testing.T, root string) map[string][]parsedFile {
	t.Helper()
	fset := token.NewFileSet()
	pkgs := map[string][]parsedFile{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (n == "testdata" || n == "node_modules" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, p, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		pkgs[dir] = append(pkgs[dir], parsedFile{filepath.ToSlash(rel), fset, f})
		return nil
	})
	if err != nil {
		t.Fatalf("walk the module: %v", err)
	}
	return pkgs
}

// importPath is the import path of the package in folder dir ("." is the
// module's root).
func importPath(dir string) string {
	if dir == "." {
		return "cloister"
	}
	return "cloister/" + dir
}
