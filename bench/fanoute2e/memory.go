package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/bench/benchsite"
	"cloister/internal/config"
	"cloister/internal/site"
	"cloister/keyring"
	"cloister/lists"
	"cloister/mimecrypt/smime"
)

// memoryRunners are the runners a post goes through, in order, each run
// as its own `cloister runner NAME --once` process by -memory.
var memoryRunners = []string{"incoming", "rules", "pipeline", "outgoing", "archive"}

// runMemory is -memory: for each subscriber count, a site as setup makes
// it (the list signs and encrypts to every subscriber, archive private, so
// encrypted to the archive key made on first use), and for each arrival
// kind one post of size bytes from Member(0): in clear, PGP/MIME encrypted
// to the list key and signed by the sender, or S/MIME encrypted to the
// list's certificate. The post is piped into deliver and each runner moves
// it as its own process; each one's peak RSS (VmHWM, read from /proc every
// 2 ms while it runs: getrusage of a vforked child counts its parent's
// memory too), wall time and the ratio of the peak to the post's size are
// printed, one line per runner.
func runMemory(b bins, dir string, ns []int, arrivals []string, size int) {
	fmt.Printf("%d CPUs; load at start: %s\n", runtime.NumCPU(), benchsite.Loadavg())
	fmt.Printf("subscribers with %s keys; post of %d KB (plaintext); rss_MB is each runner process's peak RSS (VmHWM), x_post that over the post's size\n", memorySubs, size>>10)
	fmt.Printf("%-6s %6s %-9s | %8s %7s %7s %6s\n", "arrive", "N", "runner", "msg_KB", "wall_s", "rss_MB", "x_post")
	for _, n := range ns {
		t0 := time.Now()
		cfgPath := setup(filepath.Join(dir, "m"+strconv.Itoa(n)), n)
		setBatch(cfgPath, 1)
		from := arrivalKeys(cfgPath)
		if memorySubs == "smime" {
			smimeSubscribers(cfgPath, n, from)
		}
		fmt.Printf("  (site with %d keyed subscribers made in %.1fs)\n", n, time.Since(t0).Seconds())
		for _, arrive := range arrivals {
			msg := arrivingPost(cfgPath, arrive, size, from)
			d := exec.Command(b.deliver, list)
			d.Env = append(os.Environ(), "CLOISTER_CONFIG="+cfgPath, "SENDER="+benchsite.Member(0))
			d.Stdin = bytes.NewReader(msg)
			d.Stderr = os.Stderr
			check(d.Run())
			for _, r := range memoryRunners {
				var stop func() map[string]int64
				if r == "outgoing" {
					stop = startReceiver(b, "smtpsink", "")
				}
				wall, hwm := runPeak(b.cloister, "--config", cfgPath, "--log-level", memoryLogLevel, "runner", r, "--once")
				if stop != nil {
					if c := stop()["recipients"]; c != int64(n) {
						check(fmt.Errorf("arrival %s: the sink counted %d recipients, want %d", arrive, c, n))
					}
				}
				fmt.Printf("%-6s %6d %-9s | %8d %7.2f %7.1f %6.2f\n", arrive, n, r, len(msg)>>10, wall.Seconds(),
					float64(hwm)/1024, float64(hwm)*1024/float64(size))
			}
			for _, q := range []string{"in", "rules", "pipeline", "out", "archive", "retry", "bad"} {
				if left := entries(cfgPath, q); left != 0 {
					check(fmt.Errorf("arrival %s: %d entries left in queue/%s after the runners", arrive, left, q))
				}
			}
			if got := archived(cfgPath); got != 1 {
				check(fmt.Errorf("arrival %s: %d new messages in the archive, want 1", arrive, got))
			}
		}
	}
	fmt.Printf("load at end: %s\n", benchsite.Loadavg())
}

// memoryLogLevel is the runners' log level under -memory (-log-level);
// memorySubs is what the subscribers have (-subs): pgp (an OpenPGP key
// each, as setup makes them) or smime (a certificate each instead).
var (
	memoryLogLevel = "warn"
	memorySubs     = "pgp"
)

// smimeSubscribers gives the n subscribers a P-256 certificate each from
// the bench CA in place of their OpenPGP keys (Member(0) keeps the key it
// signs with), and has the list sign and encrypt with S/MIME only.
func smimeSubscribers(cfgPath string, n int, from sender) {
	cfg, err := config.Load(cfgPath)
	check(err)
	k, err := keyring.OpenSite(cfg)
	check(err)
	defer k.Close()
	for i := range n {
		addr := benchsite.Member(i)
		for {
			e, err := k.EncryptionPGP(addr, time.Now())
			if err != nil || e == from.pgp || keyring.Fingerprint(e) == keyring.Fingerprint(from.pgp) {
				break
			}
			_, err = k.Remove(addr, keyring.Fingerprint(e))
			check(err)
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		check(err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 10)), Subject: pkix.Name{CommonName: addr},
			EmailAddresses: []string{addr}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageKeyAgreement | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, from.ca, &key.PublicKey, from.caKey)
		check(err)
		_, err = k.AddCert(addr, der, keyring.UseEncrypt)
		check(err)
	}
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	check(err)
	check(s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List(list)
		if err != nil {
			return err
		}
		for name, v := range map[string]string{"pgp_distrib_encrypt": "no", "pgp_distrib_sign": "no",
			"smime_distrib_encrypt": "yes", "smime_distrib_sign": "yes"} {
			if err := l.Settings.Set(name, v); err != nil {
				return err
			}
		}
		return tx.PutList(l)
	}))
}

// runPeak runs a command to its end and returns its wall time and peak RSS
// in KB (VmHWM), failing the bench when it fails.
func runPeak(name string, args ...string) (time.Duration, int64) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	check(cmd.Start())
	hwm := watchHWM(cmd, 2*time.Millisecond)
	err := cmd.Wait()
	peak := <-hwm
	if err != nil {
		check(fmt.Errorf("%s: %w", strings.Join(args, " "), err))
	}
	return time.Since(start), peak
}

// archived counts the messages of the list's archive and moves them out of
// the way (into cur/), so that the next arrival counts its own.
func archived(cfgPath string) int {
	cfg, err := config.Load(cfgPath)
	check(err)
	dir := cfg.ArchiveDir(list)
	ents, err := os.ReadDir(filepath.Join(dir, "new"))
	check(err)
	check(os.MkdirAll(filepath.Join(dir, "cur"), 0o750))
	for _, e := range ents {
		check(os.Rename(filepath.Join(dir, "new", e.Name()), filepath.Join(dir, "cur", e.Name())))
	}
	return len(ents)
}

// sender is what Member(0) signs its encrypted posts with: a second
// OpenPGP key bound to it, and an S/MIME certificate from a bench CA that
// the site trusts (smime_cafile).
type sender struct {
	pgp  *openpgp.Entity
	cert *x509.Certificate
	key  crypto.Signer
	// ca and caKey are the bench CA, which issues the subscribers'
	// certificates too (-subs smime).
	ca    *x509.Certificate
	caKey crypto.Signer
}

// arrivalKeys lets the list take encrypted posts (pgp_post_encrypt and
// smime_post_encrypt yes), gives it an S/MIME certificate, and makes the
// sender's keys: an OpenPGP key bound to Member(0), and a certificate for
// it from a CA written beside the configuration and named in it as
// smime_cafile.
func arrivalKeys(cfgPath string) sender {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Memory bench CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	check(err)
	ca, err := x509.ParseCertificate(caDER)
	check(err)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: benchsite.Member(0)},
		EmailAddresses: []string{benchsite.Member(0)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	check(err)
	leaf, err := x509.ParseCertificate(leafDER)
	check(err)
	caFile := filepath.Join(filepath.Dir(cfgPath), "bench-ca.pem")
	check(os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644))
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	check(err)
	_, err = fmt.Fprintf(f, "smime_cafile = %q\n", caFile)
	check(err)
	check(f.Close())

	cfg, err := config.Load(cfgPath)
	check(err)
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	check(err)
	check(s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List(list)
		if err != nil {
			return err
		}
		for name, v := range map[string]string{"pgp_post_encrypt": "yes", "smime_post_encrypt": "yes"} {
			if err := l.Settings.Set(name, v); err != nil {
				return err
			}
		}
		return tx.PutList(l)
	}))
	k, err := keyring.OpenSite(cfg)
	check(err)
	defer k.Close()
	_, err = k.GenerateSMIME(list)
	check(err)
	e, err := openpgp.NewEntity("Sender", "", benchsite.Member(0), &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519})
	check(err)
	var pub bytes.Buffer
	check(e.Serialize(&pub))
	_, err = k.AddOpenPGP(benchsite.Member(0), pub.Bytes(), false)
	check(err)
	return sender{pgp: e, cert: leaf, key: leafKey, ca: ca, caKey: caKey}
}

// arrivingPost is a post of about size bytes from Member(0) as it arrives:
// clear, pgp (PGP/MIME, encrypted to the list key and signed by sender),
// inline (the same OpenPGP message, of the text alone, as a text/plain
// body) or smime (signed by the sender, then enveloped-data to the list's
// certificate).
func arrivingPost(cfgPath, arrive string, size int, from sender) []byte {
	posts++
	head := fmt.Sprintf("From: %s\nTo: %s\nSubject: memory post %d\nMessage-ID: <mem-%d-%d@subs.test>\nDate: %s\nMIME-Version: 1.0\n",
		benchsite.Member(0), list, posts, posts, time.Now().UnixNano(), time.Now().Format(time.RFC1123Z))
	var inner bytes.Buffer
	inner.WriteString("Content-Type: text/plain; charset=utf-8\n\n")
	for inner.Len() < size {
		inner.WriteString("a line of the post to be fanned out, fifty bytes..\n")
	}
	if arrive == "clear" {
		return append([]byte(head), inner.Bytes()...)
	}
	cfg, err := config.Load(cfgPath)
	check(err)
	k, err := keyring.OpenSite(cfg)
	check(err)
	defer k.Close()
	switch arrive {
	case "pgp", "inline":
		inline := arrive == "inline"
		to, err := k.ListKeyPGP(list)
		check(err)
		var armored bytes.Buffer
		aw, err := armor.Encode(&armored, "PGP MESSAGE", nil)
		check(err)
		w, err := openpgp.Encrypt(aw, []*openpgp.Entity{to}, nil, []*openpgp.Entity{from.pgp}, &openpgp.FileHints{}, nil)
		check(err)
		text := inner.Bytes()
		if inline {
			// The plaintext is the body, without the entity's header.
			_, text, _ = bytes.Cut(text, []byte("\n\n"))
		}
		_, err = w.Write(bytes.ReplaceAll(text, []byte("\n"), []byte("\r\n")))
		check(err)
		check(w.Close())
		check(aw.Close())
		if inline {
			// Inline PGP: the armored message is the text/plain body,
			// ending in a line break as mail from SMTP does.
			body := append([]byte(head+"Content-Type: text/plain\n\n"), bytes.ReplaceAll(armored.Bytes(), []byte("\r\n"), []byte("\n"))...)
			return append(body, '\n')
		}
		const bd = "memory-bench-boundary"
		var m bytes.Buffer
		m.WriteString(head)
		fmt.Fprintf(&m, "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=%q\n\n", bd)
		fmt.Fprintf(&m, "--%s\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--%s\nContent-Type: application/octet-stream\n\n", bd, bd)
		m.Write(armored.Bytes())
		fmt.Fprintf(&m, "\n--%s--\n", bd)
		return m.Bytes()
	case "smime":
		cert, _, _, err := k.ListSMIME(list)
		check(err)
		signed, err := smime.Sign(inner.Bytes(), from.cert, from.key, nil)
		check(err)
		sealed, err := smime.Seal(signed, smime.SealOptions{})
		check(err)
		ent, err := sealed.For([]*x509.Certificate{cert}...)
		check(err)
		return append([]byte(head), bytes.ReplaceAll(ent, []byte("\r\n"), []byte("\n"))...)
	}
	check(fmt.Errorf("unknown arrival %q (clear, pgp, inline, smime)", arrive))
	return nil
}
