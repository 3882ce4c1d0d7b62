package commands

import (
	"cloister/queue"
	"cloister/rules"
)

// contentFreeIntro opens the reply to an encrypted command mail that may
// not be quoted back: it says what was done, never what the mail said.
const contentFreeIntro = "Your message arrived encrypted, without a good signature from your\n" +
	"address or without a key of yours on file to encrypt this reply to, so\n" +
	"this reply does not repeat any of its content. Commands carried out,\n" +
	"in order (lines that are not commands are not listed):\n\n"

// signedByFrom reports whether a command mail carries a good signature
// whose signer's address is the From address (signer, from the Context):
// only then may decrypted content be quoted back, encrypted to the signer.
// A captured ciphertext resent under another From has either no
// signature, or one whose signer is not that From.
func signedByFrom(m *queue.Meta, signer string) bool {
	return m.Verdict == "good" && (m.Auth == rules.MethodPGP || m.Auth == rules.MethodSMIME) && signer != ""
}

// summaryLine is the log line of one command. For a command mail that
// arrived encrypted it holds only fixed words: the command's name from the
// table (or "unknown") and the status; never a word of the line or an
// error text that may quote its arguments.
func summaryLine(l Line, cmd Command, res Result, encrypted bool) string {
	if encrypted {
		name := "unknown"
		if cmd != nil {
			name = cmd.Name()
		}
		return name + ": " + string(res.Status)
	}
	sum := clipLine(l.Word) + ": " + string(res.Status)
	if res.Err != nil {
		sum += " (" + res.Err.Error() + ")"
	}
	return sum
}
