package commands

import (
	"context"
	"crypto/x509"
	"strings"

	"cloister/keyring"
	"cloister/mailmsg/rawmime"
	"cloister/rules"
	"cloister/service"
)

// The S/MIME side of the key command. A certificate vouches for its address
// by the CA that issued it, so a mail S/MIME-signed (method smime: a good
// signature whose certificate chains to the site's trust anchors and
// carries the From address) proves the sender as the current OpenPGP key
// does: key change and key revoke need such a signature.

// certRequest reports whether a key change or revoke is about S/MIME
// certificates: the mail is S/MIME-signed, or it carries a certificate and
// no OpenPGP key.
func (c *Context) certRequest() bool {
	return c.Method == rules.MethodSMIME ||
		(c.Method != rules.MethodPGP && len(c.Attachments) == 0 && len(c.Certificates) > 0)
}

// provenByCert reports whether the command mail may change the sender's
// certificates: the key scenario allows it and the mail is S/MIME-signed by
// a trusted certificate of the sender's address.
func provenByCert(c *Context) (Result, bool) {
	if c.KeyStore == nil {
		return refused("certificates cannot be changed by mail on this server; ask the list owners"), false
	}
	d, err := c.Authorize("key")
	if err != nil {
		return failed(err), false
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d), false
	}
	if c.Method != rules.MethodSMIME {
		return refused("a certificate request must be S/MIME-signed with a certificate of your address that the list trusts"), false
	}
	return Result{}, true
}

// certChange binds the attached certificate to the sender in place of the
// others, on a mail S/MIME-signed by a trusted certificate of the sender.
func certChange(c *Context) Result {
	if res, ok := provenByCert(c); !ok {
		return res
	}
	if len(c.Certificates) == 0 {
		return refused("attach the new certificate (PEM or DER)")
	}
	fpr, err := c.bindKey(c.Sender, nil, c.Certificates[0], true, service.GroundsSelf)
	if err != nil {
		return refused("the new certificate was not accepted: %v", err)
	}
	c.announceKey(c.Sender, rules.Reasonf("The S/MIME certificate for %s is now %s (key change, S/MIME-signed by a certificate of the address).", c.Sender, fpr))
	return done("the certificate for %s is now %s; the list no longer encrypts to the others", c.Sender, fpr)
}

// certRevoke withdraws the attached certificates of the sender, or else the
// one that signed the mail, on a mail S/MIME-signed by a trusted
// certificate of the sender. A withdrawn certificate is no longer encrypted
// to, its signatures no longer count, and it is not captured again. (A
// certificate its CA revoked is dropped by the CRL without any of this.)
func certRevoke(c *Context) Result {
	if res, ok := provenByCert(c); !ok {
		return res
	}
	targets := c.Certificates
	if len(targets) == 0 {
		der, ok := c.KeyStore.CertByFingerprint(c.SignerFpr)
		if !ok {
			der, ok = signingCert(c.Body, c.SignerFpr)
		}
		if !ok {
			return refused("attach the certificate to withdraw")
		}
		targets = [][]byte{der}
	}
	var lines []string
	for _, der := range targets {
		fpr, err := c.service().CertWithdraw(context.Background(), c.actor(), service.CertWithdrawRequest{
			List: c.List.Address, Address: c.Sender, Cert: der})
		err = keyError(err)
		if err != nil {
			return refused("the certificate was not withdrawn: %v", err)
		}
		lines = append(lines, c.tr("the certificate %s is withdrawn for %s", fpr, c.Sender))
		c.announceKey(c.Sender, rules.Reasonf("The S/MIME certificate %s is withdrawn for %s (key revoke, S/MIME-signed).", fpr, c.Sender))
	}
	lines = append(lines, c.tr("The list no longer encrypts to it nor counts its signatures. Sign your next\n"+
		"mail with your new certificate (it is taken when it chains to a CA the list\n"+
		"trusts), or send key set with it attached."))
	return done("%s", strings.Join(lines, "\n"))
}

// signingCert returns the certificate with the fingerprint among those
// carried by the signature of a top-level multipart/signed mail.
func signingCert(msg []byte, fpr string) ([]byte, bool) {
	ent, err := rawmime.Parse(msg)
	if err != nil {
		return nil, false
	}
	mt, params, _ := ent.MediaType()
	if mt != "multipart/signed" {
		return nil, false
	}
	parts, _ := rawmime.SplitMultipart(ent.Body, params["boundary"], maxParts)
	if len(parts) != 2 {
		return nil, false
	}
	sp, err := rawmime.Parse(parts[1])
	if err != nil {
		return nil, false
	}
	der, err := rawmime.Decode("base64", sp.Body, 0)
	if err != nil {
		return nil, false
	}
	for _, d := range certsOnly(der) {
		if c, err := x509.ParseCertificate(d); err == nil && strings.EqualFold(keyring.CertFingerprint(c), fpr) {
			return d, true
		}
	}
	return nil, false
}
