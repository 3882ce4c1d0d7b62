package runners

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/queue"
)

// fetchSite is the test site with a real keyring holding the list's OpenPGP
// key and bob's (a member, who signs the posts), and the gpg homes of the
// list and of two outsiders with keys: dan@outside.test and
// frank@outside.test. None of the outsiders' keys is on file.
func fetchSite(t *testing.T) (s *testSite, k *keyring.Keyring, bob, dan, frank *gnupg.Home) {
	t.Helper()
	s = newTestSite(t)
	k = s.useKeyring(t)
	list := gnupg.New(t)
	list.GenKey("team <team@lists.test>", "cv25519")
	if _, err := k.ImportOpenPGPSecret("team@lists.test", list.ExportSecret("team@lists.test"), nil); err != nil {
		t.Fatal(err)
	}
	bob = gnupg.New(t)
	bob.GenKey("bob <bob@subs.test>", "cv25519")
	if _, err := k.AddOpenPGP("bob@subs.test", bob.ExportPublic("bob@subs.test"), false); err != nil {
		t.Fatal(err)
	}
	dan, frank = gnupg.New(t), gnupg.New(t)
	dan.GenKey("dan <dan@outside.test>", "cv25519")
	frank.GenKey("frank <frank@outside.test>", "cv25519")
	for _, h := range []*gnupg.Home{dan, frank} {
		h.Import(list.ExportPublic("team@lists.test")) // to check the list's signature
	}
	return s, k, bob, dan, frank
}

// TestResendFetchKey runs resend orders for outsiders without a key on file
// against a loopback server standing for their domains' Web Key Directory.
func TestResendFetchKey(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	const marker = "FETCH-MARKER-3c9"
	wkdPath := func(local string) string { return "/.well-known/openpgpkey/outside.test/hu/" + keyring.WKDHash(local) }
	for _, tc := range []struct {
		name    string
		orders  string                              // the keyword lines
		serve   func(dan, frank *gnupg.Home) []byte // what the server answers at dan's and eve's WKD path; nil: 404
		hang    bool                                // the server never answers
		off     bool                                // resend_fetch_keys no
		onFile  bool                                // dan's key is on file before the post
		lying   bool                                // FetchKey itself hands frank's key for dan
		noHTTP  bool                                // the server must see no request
		lookups int                                 // requests the server must see unless noHTTP: 2 when WKD advanced and direct are asked
		to      string                              // the outsider
		copy    string                              // "encrypted", "clear" or "" (refused)
		report  string                              // substring of the report's line for the outsider
		fetched bool                                // the outsider's key is on file afterwards
	}{
		{name: "key fetched by WKD", orders: "resend dan@outside.test",
			serve: func(dan, _ *gnupg.Home) []byte { return dan.ExportPublic("dan@outside.test") },
			to:    "dan@outside.test", copy: "encrypted", report: "sent, encrypted to its key DANFPR, fetched from SERVER/.well-known/openpgpkey/outside.test/hu/",
			lookups: 1, fetched: true},
		{name: "encrypted only, WKD answers 404", orders: "resend-encrypted-only dan@outside.test",
			to: "dan@outside.test", report: "refused, no key of this address is on file and none was found by WKD; the copy must be encrypted"},
		{name: "not found, sent in clear", orders: "resend dan@outside.test",
			to: "dan@outside.test", copy: "clear", report: "sent, signed by the list, not encrypted (no key of this address is on file and none was found by WKD)"},
		{name: "fetching off", orders: "resend-encrypted-only dan@outside.test", off: true, noHTTP: true,
			serve: func(dan, _ *gnupg.Home) []byte { return dan.ExportPublic("dan@outside.test") },
			to:    "dan@outside.test", report: "refused, no key of this address is on file; the copy must be encrypted"},
		{name: "key already on file", orders: "resend-encrypted-only dan@outside.test", onFile: true, noHTTP: true,
			serve: func(_, frank *gnupg.Home) []byte { return frank.ExportPublic("frank@outside.test") },
			to:    "dan@outside.test", copy: "encrypted", report: "sent, encrypted to its key and signed by the list", fetched: true},
		{name: "server hangs, encrypted only", orders: "resend-encrypted-only dan@outside.test", hang: true,
			to: "dan@outside.test", report: "refused, no key of this address is on file and none was found by WKD (the lookup timed out)"},
		{name: "server hangs, sent in clear", orders: "resend dan@outside.test", hang: true,
			to: "dan@outside.test", copy: "clear", report: "sent, signed by the list, not encrypted (no key of this address is on file and none was found by WKD (the lookup timed out))"},
		{name: "key of another address", orders: "resend-encrypted-only dan@outside.test",
			serve: func(_, frank *gnupg.Home) []byte { return frank.ExportPublic("frank@outside.test") },
			to:    "dan@outside.test", report: "refused, no key of this address is on file and none was found by WKD"},
		{name: "fetcher hands another address's key", orders: "resend-encrypted-only dan@outside.test", lying: true, noHTTP: true,
			to: "dan@outside.test", report: "refused, no key of this address is on file and the key found (FRANKFPR) cannot be used"},
		{name: "same address twice, looked up once", orders: "resend-encrypted-only dan@outside.test\r\nresend dan@outside.test",
			to: "dan@outside.test", copy: "clear", report: "sent, signed by the list, not encrypted (no key of this address is on file and none was found by WKD)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, k, bob, dan, frank := fetchSite(t)
			danFpr, frankFpr := dan.Fingerprint("dan@outside.test"), frank.Fingerprint("frank@outside.test")
			var served []byte
			if tc.serve != nil {
				served = tc.serve(dan, frank)
			}
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				switch {
				case tc.hang:
					select { // until the client gives up (or the test's end)
					case <-r.Context().Done():
					case <-time.After(20 * time.Second):
					}
				case served != nil && r.URL.Path == wkdPath("dan") && r.URL.Query().Get("l") == "dan":
					w.Write(served)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			f := &keyring.Fetcher{Timeout: 300 * time.Millisecond, Origin: func(string) string { return srv.URL }}
			s.FetchKey = f.Fetch
			if tc.lying {
				s.FetchKey = func(ctx context.Context, addr string) (*keyring.Fetched, error) {
					return &keyring.Fetched{Key: frank.Run(nil, "--export", "frank@outside.test"), Fingerprint: frankFpr, Source: "https://outside.test/lie"}, nil
				}
			}
			if tc.off {
				s.setSettings(t, "resend_fetch_keys", "no")
			}
			if tc.onFile {
				if _, err := k.AddOpenPGP("dan@outside.test", dan.ExportPublic("dan@outside.test"), false); err != nil {
					t.Fatal(err)
				}
			}

			inner := "Content-Type: text/plain\r\n\r\n" + tc.orders + "\r\n\r\nPlease look at this. " + marker + "\r\n"
			post := bob.PGPMIMESigned("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Incident\n", []byte(inner), "bob@subs.test")
			s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
			s.drain(t) // returns, even when the server hangs
			if r := s.badReasons(t); len(r) != 0 {
				t.Fatalf("bad: %q", r)
			}

			if n := requests.Load(); tc.noHTTP && n != 0 {
				t.Errorf("the server got %d requests, want none", n)
			} else if want := cmp.Or(tc.lookups, 2); !tc.noHTTP && n != int32(want) {
				t.Errorf("the server got %d requests, want %d", n, want)
			}

			box := s.mailbox(t, tc.to)
			switch tc.copy {
			case "":
				if len(box) != 0 {
					t.Fatalf("%s got %d messages, want none", tc.to, len(box))
				}
			case "clear":
				if len(box) != 1 || !bytes.Contains(box[0], []byte(marker)) || bytes.Contains(box[0], []byte("BEGIN PGP MESSAGE")) {
					t.Fatalf("%s got %d messages, want one in clear:\n%s", tc.to, len(box), bytes.Join(box, []byte("\n----\n")))
				}
			case "encrypted":
				if len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
					t.Fatalf("%s got %d messages (or plaintext)", tc.to, len(box))
				}
				pt, status, err := dan.Decrypt(armoredPart(t, box[0]))
				if err != nil || !bytes.Contains(pt, []byte(marker)) || !strings.Contains(status, "GOODSIG") {
					t.Fatalf("%s's copy: %v\n%s\n%s", tc.to, err, pt, status)
				}
				if bytes.Contains(pt, []byte("resend")) || !bytes.Contains(pt, []byte("From: team@lists.test")) {
					t.Fatalf("%s's copy shows the orders or not the list as sender:\n%s", tc.to, pt)
				}
			}

			var report []byte
			for _, m := range s.mailbox(t, "ann@subs.test") {
				if bytes.Contains(m, []byte("Resend report")) {
					report = m
				}
			}
			want := tc.to + ": " + strings.NewReplacer("DANFPR", danFpr, "FRANKFPR", frankFpr, "SERVER", srv.URL).Replace(tc.report)
			if !bytes.Contains(report, []byte(want)) {
				t.Errorf("report lacks %q:\n%s", want, report)
			}

			e, err := k.EncryptionKeyPGP("dan@outside.test", time.Now())
			switch {
			case tc.fetched && (err != nil || keyring.Fingerprint(e) != danFpr):
				t.Errorf("dan's key on file afterwards: %v, %v; want %s", e, err, danFpr)
			case !tc.fetched && err == nil:
				t.Errorf("dan has key %s on file afterwards, want none", keyring.Fingerprint(e))
			}
		})
	}
}

// TestResendStopDuringLookup: when the pipeline runner stops while a key is
// being looked up, the post is put back and nothing is sent (the address is
// not taken as keyless and sent a copy in clear); run again, it is resent.
func TestResendStopDuringLookup(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, _, bob, _, _ := fetchSite(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	s.FetchKey = func(fctx context.Context, addr string) (*keyring.Fetched, error) {
		stop() // the runner is told to stop during the lookup
		<-fctx.Done()
		return nil, fctx.Err()
	}
	inner := "Content-Type: text/plain\r\n\r\nresend dan@outside.test\r\n\r\nPlease look at this.\r\n"
	post := bob.PGPMIMESigned("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Incident\n", []byte(inner), "bob@subs.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	if err := Drain(ctx, s.Site); !errors.Is(err, context.Canceled) {
		t.Fatalf("Drain = %v, want context.Canceled", err)
	}
	if box := s.mailbox(t, "dan@outside.test"); len(box) != 0 {
		t.Fatalf("dan got %d messages while the lookup was cut short", len(box))
	}
	if n := len(s.files(t, queue.Pipeline)); n != 1 {
		t.Fatalf("pipeline queue holds %d entries, want the post put back", n)
	}
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}

	s.FetchKey = func(context.Context, string) (*keyring.Fetched, error) { return nil, keyring.ErrFetchNotFound }
	s.drain(t)
	if box := s.mailbox(t, "dan@outside.test"); len(box) != 1 {
		t.Fatalf("dan got %d messages after the restart, want the copy", len(box))
	}
}
