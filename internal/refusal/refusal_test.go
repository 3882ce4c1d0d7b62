package refusal

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

func TestRefusals(t *testing.T) {
	for _, tt := range []struct {
		name                    string
		err                     error
		wantReject, wantDiscard bool
		wantStep, wantText      string
	}{
		{"reject", Reject("max-size", "larger than %d bytes", 10), true, false, "max-size", "rejected by max-size: larger than 10 bytes"},
		{"wrapped reject", fmt.Errorf("handler x: %w", &RejectError{Step: "x", Reason: Verbatim("no")}), true, false, "x", "handler x: rejected by x: no"},
		{"discard", fmt.Errorf("%w: X-Loop names l@x", ErrDiscard), false, true, "", "discard: X-Loop names l@x"},
		{"other", errors.New("disk full"), false, false, "", "disk full"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rej *RejectError
			if got := errors.As(tt.err, &rej); got != tt.wantReject {
				t.Fatalf("errors.As RejectError = %v, want %v", got, tt.wantReject)
			}
			if rej != nil && rej.Step != tt.wantStep {
				t.Errorf("Step = %q, want %q", rej.Step, tt.wantStep)
			}
			if got := errors.Is(tt.err, ErrDiscard); got != tt.wantDiscard {
				t.Errorf("errors.Is ErrDiscard = %v, want %v", got, tt.wantDiscard)
			}
			if tt.err.Error() != tt.wantText {
				t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.wantText)
			}
		})
	}
}

// TestOneHome fails when another package declares its own RejectError
// type or ErrDiscard sentinel beside this package's.
func TestOneHome(t *testing.T) {
	fset := token.NewFileSet()
	root := filepath.Join("..", "..")
	home := filepath.Join(root, "internal", "refusal")
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
		if !strings.HasSuffix(path, ".go") || filepath.Dir(path) == home {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range g.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.Name == "RejectError" {
						t.Errorf("%s: declares its own RejectError; use refusal.RejectError", fset.Position(s.Pos()))
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.Name == "ErrDiscard" {
							t.Errorf("%s: declares its own ErrDiscard; use refusal.ErrDiscard", fset.Position(n.Pos()))
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
