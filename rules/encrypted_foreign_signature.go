package rules

// EncryptedForeignSignature fires on a post that arrived encrypted and
// carries a good signature made by someone other than its From address
// (verdict signer-mismatch). That is the shape of a captured ciphertext
// (a member's command mail, mail to LIST-owner) resent as a post under
// another name: distributed, it would come back decrypted to whoever
// resent it. Held, a moderator decides.
type EncryptedForeignSignature struct{}

// Name implements Rule.
func (EncryptedForeignSignature) Name() string { return "encrypted-foreign-signature" }

// Description implements Rule.
func (EncryptedForeignSignature) Description() string {
	return "the post arrived encrypted and is signed by someone other than its From address"
}

// Check implements Rule.
func (EncryptedForeignSignature) Check(p *Post) Result {
	if p.Meta.ArrivedEncrypted() && p.Meta.Verdict == "signer-mismatch" {
		return hit("the post arrived encrypted and is signed by someone other than its From address")
	}
	return miss
}
