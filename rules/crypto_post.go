package rules

import (
	"strings"
)

// The crypto rules read the {pgp,smime}_post_{encrypt,sign} settings
// (DESIGN.md section 6). Decryption and signature checks happened in the
// incoming runner; these rules only read its verdict from the metadata.
// Post encrypt force: posts not encrypted in a way the list accepts are
// rejected. Post sign yes: unsigned or badly signed posts are held; force:
// they are rejected.

// PostEncryptForce fires when a *_post_encrypt setting is force and the post
// did not arrive encrypted with a method whose setting is yes or force.
type PostEncryptForce struct{}

// Name implements Rule.
func (PostEncryptForce) Name() string { return "post-encrypt-force" }

// Description implements Rule.
func (PostEncryptForce) Description() string {
	return "the list requires encrypted posts (pgp_post_encrypt or smime_post_encrypt force) and this one is not"
}

// Check implements Rule.
func (PostEncryptForce) Check(p *Post) Result {
	s := p.List.Settings
	if s.PGPPostEncrypt != "force" && s.SMIMEPostEncrypt != "force" {
		return miss
	}
	accepted := methodsWith(s.PGPPostEncrypt, s.SMIMEPostEncrypt)
	kind := encryptionMethod(p.Meta.Encryption)
	for _, a := range accepted {
		if kind == a {
			return miss
		}
	}
	if kind == "" {
		return hit("the list accepts only posts encrypted to its %s key", keyWords(accepted))
	}
	return hit("the post is encrypted with %s; the list accepts only posts encrypted to its %s key", methodWord(kind), keyWords(accepted))
}

// PostSignForce fires when the post lacks a good signature of a kind whose
// *_post_sign setting is not no, and one of those settings is force.
type PostSignForce struct{}

// Name implements Rule.
func (PostSignForce) Name() string { return "post-sign-force" }

// Description implements Rule.
func (PostSignForce) Description() string {
	return "the list requires signed posts (pgp_post_sign or smime_post_sign force) and this one has no good signature"
}

// Check implements Rule.
func (PostSignForce) Check(p *Post) Result {
	if reason, force := signProblem(p); !reason.IsZero() && force {
		return Result{Hit: true, Reason: reason}
	}
	return miss
}

// PostSign fires when the post lacks a good signature of a kind whose
// *_post_sign setting is yes (and none is force: then PostSignForce fires).
type PostSign struct{}

// Name implements Rule.
func (PostSign) Name() string { return "post-sign" }

// Description implements Rule.
func (PostSign) Description() string {
	return "the list wants signed posts (pgp_post_sign or smime_post_sign yes) and this one has no good signature"
}

// Check implements Rule.
func (PostSign) Check(p *Post) Result {
	if reason, force := signProblem(p); !reason.IsZero() && !force {
		return Result{Hit: true, Reason: reason}
	}
	return miss
}

// signProblem says why the post's signature does not satisfy the sign
// settings ("" when it does, or nothing is asked), and whether a setting
// asking for a signature is force.
func signProblem(p *Post) (reason Reason, force bool) {
	s := p.List.Settings
	wanted := methodsWith(s.PGPPostSign, s.SMIMEPostSign)
	if len(wanted) == 0 {
		return Reason{}, false
	}
	force = s.PGPPostSign == "force" || s.SMIMEPostSign == "force"
	v := p.Meta.Verdict
	if v == "good" {
		for _, w := range wanted {
			if p.Meta.Auth == w {
				return Reason{}, force
			}
		}
		return Reasonf("the post is signed with %s; the list wants an %s signature", methodWord(p.Meta.Auth), keyWords(wanted)), force
	}
	switch v {
	case "", "none":
		return Reasonf("the post is not signed; the list wants an %s signature", keyWords(wanted)), force
	case "signer-mismatch":
		return Reasonf("the post's signature is not from its From address"), force
	}
	return Reasonf("the post's signature could not be verified (%s)", v), force
}

// methodsWith returns the methods (pgp, smime) whose setting is not no.
func methodsWith(pgp, smime string) []string {
	var out []string
	if pgp != "" && pgp != "no" {
		out = append(out, MethodPGP)
	}
	if smime != "" && smime != "no" {
		out = append(out, MethodSMIME)
	}
	return out
}

// encryptionMethod maps Meta.Encryption to pgp, smime or "".
func encryptionMethod(enc string) string {
	switch {
	case strings.HasPrefix(enc, "pgp"):
		return MethodPGP
	case enc == "smime":
		return MethodSMIME
	}
	return ""
}

// methodWord names a method: a name (OpenPGP, S/MIME), or a Reason to
// translate.
func methodWord(m string) any {
	switch m {
	case MethodPGP:
		return "OpenPGP"
	case MethodSMIME:
		return "S/MIME"
	}
	return Reasonf("an unknown method")
}

// keyWords names the methods ms: one name, or "A or B" as a Reason to
// translate.
func keyWords(ms []string) any {
	switch len(ms) {
	case 0:
		return Reasonf("no method")
	case 1:
		return methodWord(ms[0])
	}
	return Reasonf("%s or %s", methodWord(ms[0]), keyWords(ms[1:]))
}
