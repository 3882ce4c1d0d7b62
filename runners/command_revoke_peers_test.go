package runners

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// peerTool runs an OpenPGP implementation other than GnuPG (sq, rnp) in dir
// and returns its standard output, failing the test on error.
func peerTool(t *testing.T, dir string, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, stderr.String())
	}
	return out
}

// TestCommandKeyRevokePeers: key revoke by mail takes the revocation
// signature of the key on file in the forms other clients write: the bare
// PGP SIGNATURE that sq key generate leaves beside the key, sq revoke
// certificate's output, and the whole revoked certificate as rnp
// (Thunderbird's engine) and GnuPG export it. A revocation signature is
// checked against the key on file: another key's, or a damaged one, is
// refused and the key stays.
func TestCommandKeyRevokePeers(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg, sq, rnp")
	s, homes, keys := keySite(t)
	dir := t.TempDir()

	// bob's key is made by sq, which writes the revocation beside it.
	peerTool(t, dir, nil, "sq", "key", "generate", "--userid", "bob <bob@subs.test>", "--export", "bob.key", "--rev-cert", "bob.rev")
	keys.subs["bob@subs.test"] = readKey(t, peerTool(t, dir, mustRead(t, filepath.Join(dir, "bob.key")), "sq", "key", "extract-cert"))
	bobRev := mustRead(t, filepath.Join(dir, "bob.rev"))
	if !bytes.Contains(bobRev, []byte("-----BEGIN PGP SIGNATURE-----")) {
		t.Fatalf("sq's revocation is not a bare signature:\n%s", bobRev)
	}
	// cat's key is made by rnp, revoked there and exported whole.
	rnpHome := filepath.Join(dir, "rnp")
	if err := os.Mkdir(rnpHome, 0o700); err != nil {
		t.Fatal(err)
	}
	peerTool(t, dir, nil, "rnpkeys", "--homedir", rnpHome, "--generate-key", "--userid", "cat <cat@subs.test>", "--password", "")
	keys.subs["cat@subs.test"] = readKey(t, peerTool(t, dir, nil, "rnpkeys", "--homedir", rnpHome, "--export-key", "cat@subs.test"))
	peerTool(t, dir, nil, "rnpkeys", "--homedir", rnpHome, "--revoke-key", "cat@subs.test", "--password", "", "--force")
	catRevoked := peerTool(t, dir, nil, "rnpkeys", "--homedir", rnpHome, "--export-key", "cat@subs.test")
	// ann's key is GnuPG's: its whole revoked certificate as gpg exports it.
	ann := homes["ann@subs.test"]
	ann.Revoke(ann.Fingerprint("ann@subs.test"))
	annRevoked := ann.ExportPublic("ann@subs.test")

	revoke := func(from string, att []byte) {
		t.Helper()
		s.deliver(t, queue.SubRequest, from, "From: "+from+"\nSubject: x\n\nx-list-name team@lists.test\nkey revoke\n\n"+string(att))
		s.drain(t)
	}
	present := func(addr string) bool { _, ok := keys.subs[addr]; return ok }

	// Refused: another key's revocation, and a damaged one.
	revoke("bob@subs.test", catRevoked)
	if !present("bob@subs.test") || !present("cat@subs.test") {
		t.Fatal("a revoked certificate of cat's key revoked a key")
	}
	if r := lastMail(t, s, "bob@subs.test"); !strings.Contains(r, "the revocation certificate is not made by the key on file") && !strings.Contains(r, "multipart/encrypted") {
		t.Fatalf("reply:\n%s", r)
	}
	damaged := damageSignature(t, bobRev)
	revoke("bob@subs.test", damaged)
	if !present("bob@subs.test") {
		t.Fatal("a damaged revocation signature revoked bob's key")
	}

	// Accepted: each holder's own revocation.
	revoke("bob@subs.test", bobRev)
	if present("bob@subs.test") {
		reply := peerTool(t, dir, armoredPart(t, []byte(lastMail(t, s, "bob@subs.test"))), "sq", "decrypt", "--recipient-key", "bob.key")
		t.Fatalf("sq's bare revocation signature did not revoke bob's key; reply:\n%s", reply)
	}
	revoke("cat@subs.test", catRevoked)
	if present("cat@subs.test") {
		t.Fatalf("rnp's revoked certificate did not revoke cat's key; reply:\n%s", lastMail(t, s, "cat@subs.test"))
	}
	revoke("ann@subs.test", annRevoked)
	if present("ann@subs.test") {
		t.Fatalf("GnuPG's revoked certificate did not revoke ann's key; reply:\n%s", lastMail(t, s, "ann@subs.test"))
	}
}

// TestCommandKeyRevokeSqCertificate: the output of sq revoke certificate
// for the key on file revokes it.
func TestCommandKeyRevokeSqCertificate(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real sq")
	s, _, keys := keySite(t)
	dir := t.TempDir()
	peerTool(t, dir, nil, "sq", "key", "generate", "--userid", "bob <bob@subs.test>", "--export", "bob.key", "--rev-cert", "bob.rev")
	key := mustRead(t, filepath.Join(dir, "bob.key"))
	keys.subs["bob@subs.test"] = readKey(t, peerTool(t, dir, key, "sq", "key", "extract-cert"))
	rev := peerTool(t, dir, nil, "sq", "revoke", "certificate", "--certificate", "bob.key", "compromised", "lost laptop")
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: x\n\nx-list-name team@lists.test\nkey revoke\n\n"+string(rev))
	s.drain(t)
	if _, ok := keys.subs["bob@subs.test"]; ok {
		t.Fatalf("sq revoke certificate's output did not revoke the key; reply:\n%s", lastMail(t, s, "bob@subs.test"))
	}
}

// damageSignature flips a bit near the end of the signature's MPIs in an
// armored signature and re-armors it.
func damageSignature(t *testing.T, armored []byte) []byte {
	t.Helper()
	bin := dearmorT(t, armored)
	bin[len(bin)-5] ^= 0x40
	return armorT(t, "PGP SIGNATURE", bin)
}

func dearmorT(t *testing.T, b []byte) []byte {
	t.Helper()
	blk, err := armor.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := io.ReadAll(blk.Body)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func armorT(t *testing.T, typ string, bin []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := armor.Encode(&b, typ, nil)
	w.Write(bin)
	w.Close()
	return b.Bytes()
}
