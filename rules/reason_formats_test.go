package rules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReasonFormatsListEveryHit: every reason a rule gives with arguments
// is in ReasonFormats, so that notices can translate it.
func TestReasonFormatsListEveryHit(t *testing.T) {
	listed := map[string]bool{}
	for _, f := range ReasonFormats {
		listed[f] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			id, ok := c.Fun.(*ast.Ident)
			if !ok || id.Name != "hit" || len(c.Args) < 2 {
				return true
			}
			lit, ok := c.Args[0].(*ast.BasicLit)
			if !ok {
				t.Errorf("%s: hit with a format that is not a literal", fset.Position(c.Pos()))
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || s == "%s" {
				return true
			}
			seen[s] = true
			if !listed[s] {
				t.Errorf("%s: ReasonFormats lacks %q", fset.Position(c.Pos()), s)
			}
			return true
		})
	}
	for f := range listed {
		if !seen[f] {
			t.Errorf("ReasonFormats lists %q, which no rule gives", f)
		}
	}
}
