package service

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// storeWrites are the methods that change the lists store (a write
// transaction) or the keyring, directly or through a KeyStore.
var storeWrites = map[string]bool{
	"Update": true,
	// keyring.Keyring
	"AddCert": true, "AddListCertification": true, "AddOpenPGP": true, "Capture": true, "CaptureWith": true,
	"ClaimExpiryNotice": true, "GenerateArchiveKey": true, "GenerateOpenPGP": true, "GenerateSMIME": true,
	"ImportOpenPGPKeys": true, "ImportOpenPGPSecret": true, "ImportSMIME": true, "PruneExpiryNotices": true,
	"Rekey": true, "ReleaseExpiryNotice": true, "Remove": true, "RemoveListKey": true, "RevokeList": true,
	"SetCert": true, "SetTrust": true, "WithdrawCert": true, "SaveChecks": true,
	// KeyStore
	"SetSubscriberPGP": true, "RevokeSubscriberPGP": true, "SetSubscriberCert": true, "CertifyListPGP": true,
}

// storeWriteExceptions are the writes around the service that are allowed,
// as file:function:method, each with why. The runners' queue work, backup
// and restore and init (which make a site's stores) are not scanned here;
// the email commands' workflow state (confirmation tokens, key requests)
// and the import of another manager's lists go through the service
// (AskConfirmation, AnswerConfirmation, RequestKey, TakeKeyRequest,
// ApplyImport). The list is empty and only stays so.
var storeWriteExceptions = map[string]string{}

// TestNoStoreWritesAroundService fails when the CLI or the email commands
// open a write transaction on the lists store or change the keyring
// themselves instead of calling the service, beyond the listed
// exceptions; and when an exception no longer happens (the list must
// shrink with the code).
func TestNoStoreWritesAroundService(t *testing.T) {
	found := map[string]bool{}
	for _, dir := range []string{"cmd/cloister", "commands"} {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			for _, w := range storeWritesIn(t, f) {
				found[dir+"/"+filepath.Base(f)+":"+w] = true
			}
		}
	}
	var bad []string
	for w := range found {
		if _, ok := storeWriteExceptions[w]; !ok {
			bad = append(bad, w)
		}
	}
	sort.Strings(bad)
	for _, w := range bad {
		t.Errorf("%s writes a store around the service layer; call a service operation", w)
	}
	for w := range storeWriteExceptions {
		if !found[w] {
			t.Errorf("the exception %s no longer happens: remove it from storeWriteExceptions", w)
		}
	}
}

// storeWritesIn returns function:method for each call of a store-writing
// method in a Go file (os.Remove and the like are not stores).
func storeWritesIn(t *testing.T, path string) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(gotoken.NewFileSet(), path, src, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var out []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !storeWrites[sel.Sel.Name] {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && (id.Name == "os" || id.Name == "filepath") {
				return true
			}
			if sel.Sel.Name == "Update" && !isListsStore(sel.X) {
				return true
			}
			out = append(out, fn.Name.Name+":"+sel.Sel.Name)
			return true
		})
	}
	return out
}

// isListsStore tells whether x names a site's lists store (s.Lists,
// c.Site.Lists, a variable called lists or store).
func isListsStore(x ast.Expr) bool {
	switch e := x.(type) {
	case *ast.SelectorExpr:
		return e.Sel.Name == "Lists"
	case *ast.Ident:
		return e.Name == "store" || e.Name == "st" || e.Name == "db"
	}
	return false
}
