package runners

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/rules"
	"cloister/service"
)

// TestServiceOwnKeyNeedsProof: a member sets their own OpenPGP key through
// the service (the web's way) only by signing the challenge with it, made
// with gpg; a signature by another key, of another text, or a challenge
// used twice binds nothing; a key on file is changed only when the old key
// signs the challenge too (security invariant 3), whatever the session.
func TestServiceOwnKeyNeedsProof(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s := newTestSite(t)
	k := s.useKeyring(t)
	s.setList(t, map[string]string{"key_enrolment": "proof"})
	ctx := context.Background()
	svc := Service(s.Site)
	bob := service.Actor{Address: "bob@subs.test", Method: rules.MethodMD5, Via: service.ViaWeb}
	oldHome, newHome, mallory := gnupg.New(t), gnupg.New(t), gnupg.New(t)
	oldFpr := oldHome.GenKey("bob <bob@subs.test>", "cv25519")
	newFpr := newHome.GenKey("Bob <bob@subs.test>", "rsa3072")
	mallory.GenKey("bob <bob@subs.test>", "cv25519")
	clearsign := func(h *gnupg.Home, text string) []byte {
		return h.Run([]byte(text), "--clearsign", "-u", "bob@subs.test")
	}
	bound := func() string {
		t.Helper()
		keys, err := svc.MyKey(ctx, bob, service.MyKeyRequest{List: "team"})
		if err != nil {
			t.Fatal(err)
		}
		var fprs []string
		for _, sk := range keys {
			fprs = append(fprs, sk.Fingerprint)
		}
		return strings.Join(fprs, ",")
	}

	// Who may not: an outsider, and unproven mail.
	if _, err := svc.KeyChallenge(ctx, service.Actor{Address: "zed@else.test", Method: rules.MethodMD5, Via: service.ViaWeb},
		service.KeyChallengeRequest{List: "team", Key: oldHome.ExportPublic("bob@subs.test")}); service.Code(err) != service.CodeForbidden {
		t.Errorf("an outsider asks for a challenge: %v, want forbidden", err)
	}
	if _, err := svc.KeyChallenge(ctx, service.Actor{Address: "bob@subs.test", Method: rules.MethodSMTP, Via: service.ViaWeb},
		service.KeyChallengeRequest{List: "team", Key: oldHome.ExportPublic("bob@subs.test")}); service.Code(err) != service.CodeUnauthenticated {
		t.Errorf("smtp asks for a challenge: %v, want unauthenticated", err)
	}

	// A first key: signed by another key, or another text, binds nothing.
	ch, err := svc.KeyChallenge(ctx, bob, service.KeyChallengeRequest{List: "team", Key: oldHome.ExportPublic("bob@subs.test")})
	if err != nil {
		t.Fatal(err)
	}
	if ch.NeedsOldKey || ch.Fingerprint != oldFpr {
		t.Fatalf("challenge %+v", ch)
	}
	for name, sig := range map[string][]byte{
		"signed by another key": clearsign(mallory, ch.Text),
		"another text":          clearsign(oldHome, strings.Replace(ch.Text, "challenge", "challenges", 1)),
		"no signature":          []byte(ch.Text),
	} {
		if _, err := svc.KeyVerify(ctx, bob, service.KeyVerifyRequest{List: "team", ID: ch.ID, Signature: sig}); service.Code(err) != service.CodeForbidden {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
	if b := bound(); b != "" {
		t.Fatalf("a key was bound without proof: %s", b)
	}
	sk, err := svc.KeyVerify(ctx, bob, service.KeyVerifyRequest{List: "team", ID: ch.ID, Signature: clearsign(oldHome, ch.Text)})
	if err != nil || sk.Fingerprint != oldFpr {
		t.Fatalf("proven first key: %+v, %v", sk, err)
	}
	if _, err := svc.KeyVerify(ctx, bob, service.KeyVerifyRequest{List: "team", ID: ch.ID, Signature: clearsign(oldHome, ch.Text)}); service.Code(err) != service.CodeNotFound {
		t.Errorf("challenge used twice: %v, want not_found", err)
	}
	if e, err := k.EncryptionKeyPGP("bob@subs.test", time.Now()); err != nil || !strings.EqualFold(fmt.Sprintf("%X", e.PrimaryKey.Fingerprint), oldFpr) {
		t.Fatalf("keyring after the first key: %v", err)
	}

	// A change: the new key alone (a session of whoever reads bob's mail)
	// is refused; the old key's signature too changes it.
	ch, err = svc.KeyChallenge(ctx, bob, service.KeyChallengeRequest{List: "team", Key: newHome.ExportPublic("bob@subs.test")})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.NeedsOldKey {
		t.Fatalf("a change does not ask for the old key: %+v", ch)
	}
	for name, old := range map[string][]byte{
		"no old signature":         nil,
		"old signature by mallory": clearsign(mallory, ch.Text),
	} {
		_, err := svc.KeyVerify(ctx, bob, service.KeyVerifyRequest{List: "team", ID: ch.ID, Signature: clearsign(newHome, ch.Text), OldSignature: old})
		if service.Code(err) != service.CodeForbidden {
			t.Errorf("change with %s: %v, want forbidden", name, err)
		}
	}
	if b := bound(); b != oldFpr {
		t.Fatalf("bound after refused changes: %s, want %s", b, oldFpr)
	}
	detached := oldHome.Run([]byte(ch.Text), "--armor", "--detach-sign", "-u", "bob@subs.test")
	if _, err := svc.KeyVerify(ctx, bob, service.KeyVerifyRequest{List: "team", ID: ch.ID, Signature: clearsign(newHome, ch.Text), OldSignature: detached}); err != nil {
		t.Fatalf("change signed by both keys: %v", err)
	}
	if b := bound(); b != newFpr {
		t.Errorf("bound after the change: %s, want %s", b, newFpr)
	}
}
