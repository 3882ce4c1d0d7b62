package keyring

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// TestWKDHash checks the hashing against the example of
// draft-koch-openpgp-webkey-service (section 3.1).
func TestWKDHash(t *testing.T) {
	for _, tc := range []struct{ local, want string }{
		{"Joe.Doe", "iy9q119eutrkn8s1mk4r39qejnbu3n5q"},
		{"joe.doe", "iy9q119eutrkn8s1mk4r39qejnbu3n5q"},
		{"JOE.DOE", "iy9q119eutrkn8s1mk4r39qejnbu3n5q"},
	} {
		if got := WKDHash(tc.local); got != tc.want {
			t.Errorf("WKDHash(%q) = %q, want %q", tc.local, got, tc.want)
		}
	}
	if a, b := WKDHash("ann"), WKDHash("bob"); a == b || len(a) != 32 {
		t.Errorf("hashes of ann and bob: %q, %q", a, b)
	}
}

func TestZBase32(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{nil, ""},
		{[]byte{0}, "yy"},
		{[]byte{0xff}, "9h"}, // 11111 111(00)
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff}, "99999999"}, // 40 bits, no padding
	} {
		if got := zbase32(tc.in); got != tc.want {
			t.Errorf("zbase32(%x) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWKDURLs(t *testing.T) {
	adv, dir, err := WKDURLs("Joe.Doe@Example.ORG", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"; adv != want {
		t.Errorf("advanced = %q, want %q", adv, want)
	}
	if want := "https://example.org/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"; dir != want {
		t.Errorf("direct = %q, want %q", dir, want)
	}
	for _, bad := range []string{"", "joe", "@example.org", "joe@", "joe@example.org/x", "a b@example.org"} {
		if _, _, err := WKDURLs(bad, nil); err == nil {
			t.Errorf("WKDURLs(%q) accepted", bad)
		}
	}
}

// fetchKeys makes, with gpg, ann@example.org's key certified by carol (a
// third party), and bob@example.org's key.
func fetchKeys(t *testing.T) (ann, bob []byte, annFpr string) {
	t.Helper()
	g := gnupg.New(t)
	annFpr = g.GenKey("Ann <ann@example.org>", "cv25519")
	g.GenKey("Bob <bob@example.org>", "cv25519")
	g.GenKey("Carol <carol@example.net>", "cv25519")
	g.Run(nil, "--local-user", "carol@example.net", "--quick-sign-key", annFpr)
	return g.Run(nil, "--export", "ann@example.org"), g.Run(nil, "--export", "bob@example.org"), annFpr
}

// TestFetch runs the fetcher against a local HTTP server standing for the
// WKD hosts and a VKS keyserver (loopback only).
func TestFetch(t *testing.T) {
	testdirs.Slow(t, "runs gpg to make the fetched keys")
	ann, bob, annFpr := fetchKeys(t)
	hu := WKDHash("ann")
	advPath := "/.well-known/openpgpkey/example.org/hu/" + hu
	dirPath := "/.well-known/openpgpkey/hu/" + hu
	vksPath := "/vks/v1/by-email/ann@example.org"
	var armoredAnn bytes.Buffer
	{
		w, _ := armorKey(ann)
		armoredAnn.Write(w)
	}
	armoredBob, _ := armorKey(bob)

	for _, tc := range []struct {
		name    string
		routes  map[string]func(w http.ResponseWriter, r *http.Request)
		noWKD   bool
		vks     bool
		timeout time.Duration
		source  string // path the key must come from
		err     string // substring of the error, when it must fail
		errIs   error
	}{
		{name: "advanced", routes: map[string]func(http.ResponseWriter, *http.Request){advPath: serve(ann)}, source: advPath},
		{name: "direct after advanced 404", routes: map[string]func(http.ResponseWriter, *http.Request){dirPath: serve(ann)}, source: dirPath},
		{name: "keyserver", noWKD: true, vks: true, routes: map[string]func(http.ResponseWriter, *http.Request){vksPath: serve(armoredAnn.Bytes())}, source: vksPath},
		{name: "WKD then keyserver", vks: true, routes: map[string]func(http.ResponseWriter, *http.Request){vksPath: serve(armoredAnn.Bytes())}, source: vksPath},
		{name: "several keys in one response", routes: map[string]func(http.ResponseWriter, *http.Request){advPath: serve(append(append([]byte{}, bob...), ann...))}, source: advPath},
		{name: "key without the address", routes: map[string]func(http.ResponseWriter, *http.Request){advPath: serve(bob), dirPath: serve(armoredBob)},
			err: "no usable key carries ann@example.org", errIs: ErrNotBound},
		{name: "nothing anywhere", vks: true, err: "404", errIs: ErrFetchNotFound},
		{name: "too large, chunked", routes: map[string]func(http.ResponseWriter, *http.Request){advPath: huge(false)}, err: "larger than 1048576"},
		{name: "too large, announced", routes: map[string]func(http.ResponseWriter, *http.Request){advPath: huge(true)}, err: "larger than 1048576"},
		{name: "slow server", timeout: 300 * time.Millisecond, routes: map[string]func(http.ResponseWriter, *http.Request){advPath: slow, dirPath: slow},
			err: "Timeout exceeded"},
		{name: "redirect loop", routes: map[string]func(http.ResponseWriter, *http.Request){advPath: loop, dirPath: loop}, err: "more than 3 redirects"},
		{name: "garbage", routes: map[string]func(http.ResponseWriter, *http.Request){advPath: serve([]byte("<html>not a key</html>"))}, err: "read OpenPGP key"},
		{name: "redirect to the key", routes: map[string]func(http.ResponseWriter, *http.Request){
			advPath:      func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) },
			"/elsewhere": serve(ann)}, source: advPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits = append(hits, r.URL.Path)
				if h := tc.routes[r.URL.Path]; h != nil {
					if strings.HasPrefix(r.URL.Path, "/.well-known/") && r.URL.Query().Get("l") != "ann" {
						http.Error(w, "no l parameter", http.StatusBadRequest)
						return
					}
					h(w, r)
					return
				}
				http.NotFound(w, r)
			}))
			defer srv.Close()
			f := &Fetcher{NoWKD: tc.noWKD, Timeout: tc.timeout, Origin: func(string) string { return srv.URL }}
			if tc.vks {
				f.Keyserver = srv.URL + "/"
			}
			got, err := f.Fetch(context.Background(), "ann@example.org")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one with %q", err, tc.err)
				}
				if tc.errIs != nil && !errors.Is(err, tc.errIs) {
					t.Fatalf("err = %v, want it to wrap %v", err, tc.errIs)
				}
				if !errors.Is(err, ErrFetchNotFound) {
					t.Fatalf("err = %v does not wrap ErrFetchNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("fetch: %v (server saw %v)", err, hits)
			}
			if got.Fingerprint != annFpr || !strings.HasSuffix(strings.SplitN(got.Source, "?", 2)[0], tc.source) {
				t.Fatalf("fetched %s from %s, want %s from %s", got.Fingerprint, got.Source, annFpr, tc.source)
			}
		})
	}
}

func serve(b []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b)
	}
}

// huge sends 2 MiB, with or without a Content-Length.
func huge(announce bool) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if announce {
			w.Header().Set("Content-Length", "2097152")
		}
		chunk := bytes.Repeat([]byte{0x99}, 64<<10)
		for i := 0; i < 32; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			if f, ok := w.(http.Flusher); ok && !announce {
				f.Flush()
			}
		}
	}
}

// slow answers only when the client has gone (or after 10 s).
func slow(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

func loop(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, r.URL.Path+"?l=ann", http.StatusFound)
}

// TestFetchedKeyStored: the fetched key goes through AddOpenPGP, which
// drops carol's certification of ann's key (certificate flooding).
func TestFetchedKeyStored(t *testing.T) {
	ann, _, annFpr := fetchKeys(t)
	if !hasThirdPartyCert(t, ann) {
		t.Fatal("test key lacks carol's certification")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(ann) }))
	defer srv.Close()
	got, err := (&Fetcher{Origin: func(string) string { return srv.URL }}).Fetch(context.Background(), "Ann@Example.org")
	if err != nil {
		t.Fatal(err)
	}
	k := newKeyring(t)
	fpr, err := k.AddOpenPGP("ann@example.org", got.Key, false)
	if err != nil || fpr != annFpr {
		t.Fatalf("add fetched key: %s, %v", fpr, err)
	}
	e, err := k.EncryptionKeyPGP("ann@example.org", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var stored bytes.Buffer
	e.Serialize(&stored)
	if hasThirdPartyCert(t, stored.Bytes()) {
		t.Fatal("the stored key kept a third-party certification")
	}
}

func hasThirdPartyCert(t *testing.T, key []byte) bool {
	t.Helper()
	el, err := openpgp.ReadKeyRing(bytes.NewReader(key))
	if err != nil || len(el) != 1 {
		t.Fatalf("read key: %v", err)
	}
	for _, id := range el[0].Identities {
		if len(id.OtherCertifications) > 0 {
			return true
		}
	}
	return false
}

// FuzzPickKey: whatever a server answers, picking a key gives a key or an
// error, never a panic.
func FuzzPickKey(f *testing.F) {
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	f.Add([]byte{0x99, 0x00, 0x0d, 0x04})
	f.Add([]byte("<html></html>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pickKey(data, "ann@example.org")
	})
}
