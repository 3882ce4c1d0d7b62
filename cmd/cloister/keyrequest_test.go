package main

import (
	"strings"
	"testing"

	"cloister/internal/config"
	"cloister/internal/testdirs"
	"cloister/lists"
)

// TestKeyApproveCLI: key pending lists the keys that wait for an owner;
// key refuse drops one (nothing bound, the address told); key approve binds
// one and announces it to the member and the owner; a decided request
// cannot be decided again.
func TestKeyApproveCLI(t *testing.T) {
	testdirs.Slow(t, "runs gpg to make the requested keys")
	cfg := keySite(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := cli(t, append([]string{"--config", cfg}, args...)...)
		if err != nil {
			t.Fatalf("cloister %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	run("list", "create", "team", "--owner", "ann@subs.test")
	run("key", "generate", "team")
	run("member", "add", "team", "dan@subs.test")
	gpg := gpgHome(t)
	gpg("", "--quick-gen-key", "Dan <dan@subs.test>", "future-default", "default", "0")
	fpr := fingerprintOf(t, gpg, "dan@subs.test")
	key := gpg("", "--armor", "--export", "dan@subs.test")

	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store, err := lists.Open(c.ListsDB())
	if err != nil {
		t.Fatal(err)
	}
	approve := &lists.KeyRequest{List: "team@lists.test", Address: "dan@subs.test", Key: key, Fingerprint: fpr, Mode: lists.EnrolOwner, Via: "key set"}
	refuse := &lists.KeyRequest{List: "team@lists.test", Address: "dan@subs.test", Key: key, Fingerprint: fpr, Mode: lists.EnrolOwner, Via: "subscribe"}
	if err := store.Update(func(tx *lists.Tx) error { return tx.PutKeyRequest(refuse) }); err != nil {
		t.Fatal(err)
	}
	// The same key asked for again replaces the first request.
	if err := store.Update(func(tx *lists.Tx) error { return tx.PutKeyRequest(approve) }); err != nil {
		t.Fatal(err)
	}
	out := run("key", "pending", "team")
	if !strings.Contains(out, approve.ID) || !strings.Contains(out, fpr) || strings.Contains(out, refuse.ID) {
		t.Fatalf("key pending:\n%s", out)
	}
	if out, err := cli(t, "--config", cfg, "key", "approve", "team", refuse.ID); err == nil || !strings.Contains(err.Error(), "no key request") {
		t.Fatalf("approving a replaced request: %v\n%s", err, out)
	}
	if out := run("key", "ls", "dan@subs.test"); strings.Contains(out, fpr) {
		t.Fatalf("bound before approval:\n%s", out)
	}
	out = run("key", "approve", "team", approve.ID)
	if !strings.Contains(out, fpr+" is now bound to dan@subs.test") || !strings.Contains(out, "told dan@subs.test\n") || !strings.Contains(out, "told ann@subs.test\n") {
		t.Fatalf("key approve:\n%s", out)
	}
	if out := run("key", "ls", "dan@subs.test"); !strings.Contains(out, fpr) {
		t.Fatalf("not bound after approval:\n%s", out)
	}
	if out, err := cli(t, "--config", cfg, "key", "approve", "team", approve.ID); err == nil {
		t.Fatalf("a request approved twice:\n%s", out)
	}
	if out := run("key", "pending"); strings.Contains(out, approve.ID) {
		t.Fatalf("key pending after approval:\n%s", out)
	}

	// A refused request binds nothing; the address is told.
	again := &lists.KeyRequest{List: "team@lists.test", Address: "eve@subs.test", Key: key, Fingerprint: fpr, Mode: lists.EnrolOwner, Via: "key set"}
	if err := store.Update(func(tx *lists.Tx) error { return tx.PutKeyRequest(again) }); err != nil {
		t.Fatal(err)
	}
	out = run("key", "refuse", "team", again.ID)
	if !strings.Contains(out, "is refused; nothing was bound") || !strings.Contains(out, "told eve@subs.test\n") {
		t.Fatalf("key refuse:\n%s", out)
	}
	if out := run("key", "ls", "eve@subs.test"); strings.Contains(out, fpr) {
		t.Fatalf("a refused key was bound:\n%s", out)
	}
}
