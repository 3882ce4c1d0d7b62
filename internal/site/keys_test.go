package site

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// keyFields are the fields through which code reaches the site's keys.
var keyFields = map[string]bool{"Keys": true, "Keyring": true, "ArchiveKeys": true, "KeyStore": true}

// TestNoAssertionOnSiteKeys fails on any type assertion (x.(T) or a type
// switch) on a field holding the site's keys, in code or tests: what code
// needs of the keys is declared in the interfaces of keys.go and held by
// Site as fields, so that no feature depends on an assertion that, when it
// fails, silently turns it off.
func TestNoAssertionOnSiteKeys(t *testing.T) {
	fset := token.NewFileSet()
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || (strings.HasPrefix(n, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			a, ok := n.(*ast.TypeAssertExpr)
			if !ok {
				return true
			}
			if s, ok := a.X.(*ast.SelectorExpr); ok && keyFields[s.Sel.Name] {
				t.Errorf("%s: type assertion on the site's %s; declare what is needed in internal/site/keys.go", fset.Position(a.Pos()), s.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
