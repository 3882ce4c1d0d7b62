package queue

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

func TestArrivedEncrypted(t *testing.T) {
	for _, tt := range []struct {
		name       string
		m          *Meta
		want       bool
		protection string
	}{
		{"no metadata", nil, false, ""},
		{"not recorded", &Meta{}, false, CarriesClear},
		{"clear", &Meta{Encryption: "none"}, false, CarriesClear},
		{"OpenPGP/MIME", &Meta{Encryption: "pgp-mime"}, true, CarriesPlaintext},
		{"inline OpenPGP", &Meta{Encryption: "pgp-inline"}, true, CarriesPlaintext},
		{"S/MIME", &Meta{Encryption: "smime"}, true, CarriesPlaintext},
		// A notice about an encrypted post did not arrive encrypted itself,
		// but carries what one did.
		{"derived from encrypted", &Meta{Encryption: "none", Lineage: &Lineage{ID: "x", Encrypted: true}}, false, CarriesPlaintext},
		{"recorded carries wins", &Meta{Encryption: "smime", Carries: CarriesSealed}, true, CarriesSealed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.ArrivedEncrypted(); got != tt.want {
				t.Errorf("ArrivedEncrypted() = %v, want %v", got, tt.want)
			}
			if tt.m != nil {
				if got := tt.m.Protection(); got != tt.protection {
					t.Errorf("Protection() = %q, want %q", got, tt.protection)
				}
			}
		})
	}
}

// TestArrivedEncryptedHasOneHome fails when code outside Meta.ArrivedEncrypted
// answers "did this arrive encrypted" itself, by comparing an Encryption
// field with "none".
func TestArrivedEncryptedHasOneHome(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || (strings.HasPrefix(n, ".") && n != "..") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || path == filepath.Join("..", "queue", "meta.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			b, ok := n.(*ast.BinaryExpr)
			if !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
				return true
			}
			if isEncryptionField(b.X) && isNone(b.Y) || isEncryptionField(b.Y) && isNone(b.X) {
				t.Errorf("%s: compares Encryption with \"none\"; ask Meta.ArrivedEncrypted", fset.Position(b.Pos()))
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isEncryptionField(e ast.Expr) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && s.Sel.Name == "Encryption"
}

func isNone(e ast.Expr) bool {
	l, ok := e.(*ast.BasicLit)
	return ok && l.Kind == token.STRING && l.Value == `"none"`
}
