package testdirs

import (
	"go/ast"
	"sort"
	"strings"
	"testing"
)

// readStructs are the structs whose every field some non-test code reads:
// the contexts that runners fill for the units they call, where a field
// written and never read (handlers' Protect and Notes, commands'
// ApprovedBy) looks like a feature and is none.
var readStructs = []string{
	"handlers.Context",
	"commands.Context",
	"moderation.Decider",
	"runners.Job",
	"service.Actor",
}

// TestContextFieldsRead fails on a field of readStructs that no non-test
// code of the module reads. A read is a selector X.Field anywhere but on
// the left of an assignment; a field of the same name in another struct
// counts too, so the test errs towards passing.
func TestContextFieldsRead(t *testing.T) {
	pkgs := parseModule(t, Root(t))
	fields := map[string][]string{} // field name -> structs declaring it
	for _, want := range readStructs {
		pkg, name, _ := strings.Cut(want, ".")
		found := false
		for _, f := range pkgs[pkg] {
			ast.Inspect(f.file, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok || ts.Name.Name != name {
					return true
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					return true
				}
				found = true
				for _, fl := range st.Fields.List {
					for _, id := range fl.Names {
						fields[id.Name] = append(fields[id.Name], want)
					}
				}
				return false
			})
		}
		if !found {
			t.Errorf("no struct %s in the module", want)
		}
	}
	reads := map[string]int{}
	for _, files := range pkgs {
		for _, f := range files {
			written := map[*ast.SelectorExpr]bool{}
			ast.Inspect(f.file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.AssignStmt:
					for _, l := range n.Lhs {
						if s, ok := l.(*ast.SelectorExpr); ok {
							written[s] = true
						}
					}
				case *ast.SelectorExpr:
					if !written[n] {
						reads[n.Sel.Name]++
					}
				}
				return true
			})
		}
	}
	var unread []string
	for name, in := range fields {
		if reads[name] == 0 {
			unread = append(unread, strings.Join(in, ", ")+"."+name)
		}
	}
	sort.Strings(unread)
	for _, u := range unread {
		t.Errorf("%s is never read outside tests: remove it, or read it", u)
	}
}
