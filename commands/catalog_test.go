package commands

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"cloister/etc"
	"cloister/mailtext"
	"cloister/service"
)

// untranslatedFiles hold texts not in the catalogue yet.
var untranslatedFiles = map[string]bool{}

// serviceFiles are the service's files whose error messages reach the
// replies to email commands.
var serviceFiles = []string{"authz.go", "held.go", "members.go", "subscribe.go"}

// translatedCalls are the functions whose first argument is an English
// message of the catalogue.
var translatedCalls = map[string]bool{"done": true, "pending": true, "refused": true, "tr": true, "Sprintf": true, "phrase": true, "Reasonf": true}

// sourceMessages returns the English messages the commands show: the
// formats given to done, pending, refused and tr, the commands' Help lines,
// the phrases saying what a confirmation is for, and the scenario refusal
// reasons (of the commands and of the runners' notices).
func sourceMessages(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || untranslatedFiles[f] {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		for _, d := range af.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if v, ok := stringValue(vs.Values[i], nil); ok {
								consts[n.Name] = v
							}
						}
					}
				}
			}
		}
	}
	out := map[string]bool{}
	add := func(e ast.Expr) {
		if v, ok := stringValue(e, consts); ok && strings.TrimSpace(v) != "" && v != "%s" {
			out[v] = true
		}
	}
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					if x, ok := fn.X.(*ast.Ident); ok && x.Name != "fmt" {
						name = fn.Sel.Name
					}
				}
				if translatedCalls[name] && len(n.Args) > 0 {
					add(n.Args[0])
				}
			case *ast.FuncDecl:
				if n.Name.Name == "Help" && n.Recv != nil && n.Body != nil && len(n.Body.List) == 1 {
					if r, ok := n.Body.List[0].(*ast.ReturnStmt); ok && len(r.Results) == 1 {
						add(r.Results[0])
					}
				}
			}
			return true
		})
	}
	// The messages of the service's errors that command results show.
	for _, f := range serviceFiles {
		af, err := parser.ParseFile(fset, filepath.Join("..", "service", f), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if id, ok := call.Fun.(*ast.Ident); ok {
					switch {
					case id.Name == "errorf" && len(call.Args) > 1:
						add(call.Args[1])
					case id.Name == "wrapf" && len(call.Args) > 2:
						add(call.Args[2])
					}
				}
			}
			return true
		})
	}
	// The words of the scenario reasons in the notices (package notices).
	nf, err := parser.ParseFile(fset, filepath.Join("..", "notices", "template.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	ast.Inspect(nf, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "reasonTexts" || len(vs.Values) != 1 {
			return true
		}
		if cl, ok := vs.Values[0].(*ast.CompositeLit); ok {
			for _, e := range cl.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if c, ok := kv.Value.(*ast.CallExpr); ok && len(c.Args) > 0 {
						add(c.Args[0])
						found = true
					}
				}
			}
		}
		return false
	})
	if !found {
		t.Fatal("no reasonTexts in notices/template.go")
	}
	// The posting-chain rules' descriptions and fixed reasons, which the
	// runners' notices show to senders and owners.
	rf, err := filepath.Glob(filepath.Join("..", "rules", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rf {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Name.Name == "Description" && n.Recv != nil && n.Body != nil && len(n.Body.List) == 1 {
					if r, ok := n.Body.List[0].(*ast.ReturnStmt); ok && len(r.Results) == 1 {
						add(r.Results[0])
					}
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "hit" && len(n.Args) >= 1 {
					add(n.Args[0])
				}
			}
			return true
		})
	}
	// The reasons and phrases made with rules.Reasonf or refusal.Reasonf
	// anywhere (the service's key notices, the runners' hold reasons), and
	// the handlers' rejections.
	err = filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil || (!strings.Contains(string(src), "Reasonf(") && !strings.Contains(string(src), "eject(")) {
			return err
		}
		inHandlers := filepath.Dir(p) == filepath.Join("..", "handlers")
		af, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			return err
		}
		ast.Inspect(af, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok && len(c.Args) > 0 {
				switch fn := c.Fun.(type) {
				case *ast.SelectorExpr:
					if fn.Sel.Name == "Reasonf" {
						add(c.Args[0])
					}
					// A rejection's reason (refusal.Reject(step, format, ...)).
					if x, ok := fn.X.(*ast.Ident); ok && x.Name == "refusal" && fn.Sel.Name == "Reject" && len(c.Args) > 1 {
						add(c.Args[1])
					}
				case *ast.Ident:
					if fn.Name == "Reasonf" {
						add(c.Args[0])
					}
					// A handler's rejection (reject(h, format, ...)).
					if inHandlers && fn.Name == "reject" && len(c.Args) > 1 {
						add(c.Args[1])
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out[failedText] = true
	for _, r := range service.ReasonTexts {
		out[r] = true
	}
	return out
}

// stringValue evaluates a constant string expression.
func stringValue(e ast.Expr, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := stringValue(e.X, consts)
		b, ok2 := stringValue(e.Y, consts)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return stringValue(e.X, consts)
	case *ast.Ident:
		v, ok := consts[e.Name]
		return v, ok
	}
	return "", false
}

func builtinCatalog(t *testing.T, lang string) map[string]string {
	t.Helper()
	src, err := fs.ReadFile(etc.Templates, "templates/"+lang+"/"+mailtext.CatalogFile)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mailtext.ParsePO(string(src))
	if err != nil {
		t.Fatalf("%s: %v", lang, err)
	}
	return m
}

// TestCatalogListsEveryMessage checks that the English catalogue lists
// exactly the messages the commands show, so that none is left out of the
// translations.
func TestCatalogListsEveryMessage(t *testing.T) {
	src := sourceMessages(t)
	en := builtinCatalog(t, "en")
	var missing []string
	for m := range src {
		if _, ok := en[m]; !ok {
			missing = append(missing, m)
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("etc/templates/en/%s lacks\nmsgid %s\nmsgstr \"\"", mailtext.CatalogFile, strconv.Quote(m))
	}
	if len(missing) > 0 && os.Getenv("CATALOG_DUMP") != "" {
		var b strings.Builder
		for _, m := range missing {
			b.WriteString("msgid " + strconv.Quote(m) + "\nmsgstr \"\"\n\n")
		}
		os.WriteFile(os.Getenv("CATALOG_DUMP"), []byte(b.String()), 0o644)
	}
	for m := range en {
		if !src[m] {
			t.Errorf("etc/templates/en/%s has %q, which no command shows", mailtext.CatalogFile, m)
		}
	}
}

// TestSetHelpNamesEverySafeSetting: the set command's help line (a fixed
// text, so that the catalogue translates it) names the settings an owner
// may set by mail, all of them.
func TestSetHelpNamesEverySafeSetting(t *testing.T) {
	_, list, _ := strings.Cut(Set{}.Help(), "set a list setting: ")
	if got, want := list, strings.Join(SafeSettings, ", "); got != want {
		t.Errorf("set's help names %q, the settable settings are %q", got, want)
	}
}
