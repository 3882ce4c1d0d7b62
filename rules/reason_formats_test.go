package rules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"cloister/etc"
	"cloister/mailtext"
)

// reasonFormats returns every literal format given to hit or Reasonf in
// the module's code (tests left out): rules.Reasonf, refusal.Reasonf,
// refusal.Reject and the handlers' reject, with where it is given.
func reasonFormats(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || n == "node_modules" || (strings.HasPrefix(n, ".") && n != "..") {
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
		if !strings.Contains(string(src), "Reasonf(") && !strings.Contains(string(src), "hit(") &&
			!strings.Contains(string(src), "eject(") {
			return nil
		}
		af, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			return err
		}
		inRules := filepath.Dir(p) == filepath.Join("..", "rules")
		inHandlers := filepath.Dir(p) == filepath.Join("..", "handlers")
		ast.Inspect(af, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok || len(c.Args) == 0 {
				return true
			}
			arg := 0 // the format's argument
			switch f := c.Fun.(type) {
			case *ast.Ident:
				switch {
				case inRules && (f.Name == "hit" || f.Name == "Reasonf"):
				case inHandlers && f.Name == "reject":
					arg = 1
				default:
					return true
				}
			case *ast.SelectorExpr:
				x, ok := f.X.(*ast.Ident)
				switch {
				case ok && (x.Name == "rules" || x.Name == "refusal") && f.Sel.Name == "Reasonf":
				case ok && x.Name == "refusal" && f.Sel.Name == "Reject":
					arg = 1
				default:
					return true
				}
			default:
				return true
			}
			if len(c.Args) <= arg {
				return true
			}
			if id, ok := c.Args[arg].(*ast.Ident); ok && id.Name == "format" {
				return true // a helper passing its own format on (hit, reject)
			}
			lit, ok := c.Args[arg].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: a reason whose format is not a literal (the catalogue cannot list it)", fset.Position(c.Pos()))
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			out[s] = fset.Position(c.Pos()).String()
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReasonFormatsListEveryHit: every reason format a rule, a handler's
// rejection or any other code (through rules.Reasonf or refusal.Reasonf)
// gives, and every rule's description (the
// reason of an encrypted post), is a message of the built-in English
// catalogue with a German and a French translation, so that notices render
// every reason in the list's language.
func TestReasonFormatsListEveryHit(t *testing.T) {
	formats := reasonFormats(t)
	if len(formats) < 20 {
		t.Fatalf("only %d reason formats found: %v", len(formats), formats)
	}
	for _, l := range PostingChain {
		formats[l.Rule.Description()] = "description of " + l.Rule.Name()
	}
	for _, lang := range []string{"en", "de", "fr"} {
		src, err := fs.ReadFile(etc.Templates, "templates/"+lang+"/"+mailtext.CatalogFile)
		if err != nil {
			t.Fatal(err)
		}
		cat, err := mailtext.ParsePO(string(src))
		if err != nil {
			t.Fatal(err)
		}
		for f, where := range formats {
			s, ok := cat[f]
			if !ok || (lang != "en" && s == "") {
				t.Errorf("%s: the %s catalogue lacks %q", where, lang, f)
			}
		}
	}
}
