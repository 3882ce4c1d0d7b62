package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"cloister/internal/site"
	"cloister/internal/smtpsink"
	"cloister/keyring"
	"cloister/runners"
)

// opensslCA is the demo's certificate authority for the S/MIME members,
// made with the real openssl, as an organisation's CA would be.
type opensslCA struct{ dir, cert, key string }

func openssl(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("openssl %s: %v: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes(), nil
}

func newCA(dir string) (*opensslCA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ca := &opensslCA{dir: dir, cert: filepath.Join(dir, "ca.pem"), key: filepath.Join(dir, "ca.key")}
	_, err := openssl(nil, "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", ca.key, "-out", ca.cert,
		"-days", "30", "-subj", "/CN=Demo Members CA", "-addext", "basicConstraints=critical,CA:TRUE",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign")
	return ca, err
}

// issue makes an S/MIME certificate for email; it returns the cert and key paths.
func (ca *opensslCA) issue(email string, serial int) (cert, key string, err error) {
	name := strings.ReplaceAll(email, "@", "_")
	cert, key = filepath.Join(ca.dir, name+".pem"), filepath.Join(ca.dir, name+".key")
	csr, ext := filepath.Join(ca.dir, name+".csr"), filepath.Join(ca.dir, name+".ext")
	if _, err = openssl(nil, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN="+email); err != nil {
		return
	}
	if err = os.WriteFile(ext, []byte("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=emailProtection\nsubjectAltName=email:"+email+"\n"), 0o600); err != nil {
		return
	}
	_, err = openssl(nil, "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", fmt.Sprint(serial),
		"-days", "30", "-sha256", "-extfile", ext, "-out", cert)
	return
}

// runSMIME shows the S/MIME list: a list certificate made by Cloister,
// members' certificates from the demo CA, Bob's openssl signs and encrypts a
// post, and each member's openssl decrypts that member's copy and verifies
// the list's signature.
func runSMIME(s *site.Site, k *keyring.Keyring, ca *opensslCA, deliver, cfgPath string, sink *smtpsink.Sink, dir string) error {
	step("list %s: an S/MIME certificate made by Cloister, members' certificates from an openssl CA", smimeList)
	fpr, err := k.GenerateSMIME(smimeList)
	if err != nil {
		return err
	}
	listCert, err := k.ExportSMIME(smimeList)
	if err != nil {
		return err
	}
	listCertFile := filepath.Join(dir, "board.pem")
	if err := os.WriteFile(listCertFile, listCert, 0o644); err != nil {
		return err
	}
	fmt.Printf("    list certificate %s (self-signed, for the demo; a real list uses one from a CA)\n", fpr)
	certs := map[string][2]string{}
	for i, m := range members {
		cert, key, err := ca.issue(m.addr, 10+i)
		if err != nil {
			return err
		}
		pemCert, err := os.ReadFile(cert)
		if err != nil {
			return err
		}
		if _, err := k.AddCert(m.addr, pemCert, keyring.UseBoth); err != nil {
			return err
		}
		certs[m.addr] = [2]string{cert, key}
		fmt.Printf("    %-18s certificate issued by the demo CA\n", m.addr)
	}

	step("Bob's openssl signs the post and encrypts it to the list certificate (as Thunderbird, Outlook and mutt send S/MIME)")
	bob := certs["bob@members.test"]
	signed, err := openssl([]byte(strings.ReplaceAll(inner, "Hello team", "Hello board")), "cms", "-sign", "-signer", bob[0], "-inkey", bob[1], "-md", "sha256")
	if err != nil {
		return err
	}
	enc, err := openssl(signed, "cms", "-encrypt", "-aes256", listCertFile)
	if err != nil {
		return err
	}
	post := append([]byte("From: Bob <bob@members.test>\nTo: "+smimeList+"\nSubject: Board minutes\nMessage-ID: <minutes-1@members.test>\n"), enc...)
	cmd := exec.Command(deliver, smimeList)
	cmd.Env = append(os.Environ(), "CLOISTER_CONFIG="+cfgPath, "SENDER=bob@members.test")
	cmd.Stdin = bytes.NewReader(post)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	fmt.Println("    piped into deliver: exit 0")
	step("running every runner until the queues are empty")
	logs := capture
	before := len(logs.lines())
	if err := runners.Drain(context.Background(), s); err != nil {
		return err
	}
	for _, line := range logs.lines()[before:] {
		fmt.Println("    " + line)
	}
	for _, m := range members {
		box, err := sink.Mailbox(m.addr)
		if err != nil {
			return err
		}
		var got []byte
		for _, b := range box {
			if bytes.Contains(b, []byte("To: "+smimeList)) {
				got = b
			}
		}
		if got == nil {
			return fmt.Errorf("%s received no copy from %s", m.addr, smimeList)
		}
		c := certs[m.addr]
		opened, err := openssl(got, "cms", "-decrypt", "-recip", c[0], "-inkey", c[1])
		if err != nil {
			return fmt.Errorf("%s cannot decrypt its copy: %w", m.addr, err)
		}
		content, err := openssl(opened, "cms", "-verify", "-CAfile", listCertFile)
		if err != nil {
			return fmt.Errorf("%s: the list signature does not verify: %w", m.addr, err)
		}
		step("%s's openssl decrypts its copy with %s's own key and verifies the list's signature:", m.addr, m.name)
		fmt.Print(indent(abbreviate(string(content))))
	}
	return nil
}
