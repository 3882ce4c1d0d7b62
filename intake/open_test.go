package intake

import "testing"

// TestMayOpen: the start of a message (its header, a cut body) tells
// whether it may have a crypto layer the list's keys open.
func TestMayOpen(t *testing.T) {
	for _, tt := range []struct {
		name   string
		prefix string
		want   bool
	}{
		{"PGP/MIME, body cut", "From: a@b.test\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n--b\r\nContent-Type: application/pgp-enc", true},
		{"PGP signed", "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=b\r\n\r\n--b\r\n", true},
		{"S/MIME enveloped", "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx", true},
		{"inline PGP", "Content-Type: text/plain\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nhQEM", true},
		{"inline PGP in multipart/mixed", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n-----BEGIN PGP SIGNED MESSAGE-----\r\n", true},
		{"inline marker cut short", "Content-Type: text/plain\r\n\r\n-----BEGIN PGP", false},
		{"inline marker in an image", "Content-Type: image/png\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n", false},
		{"clear text", "From: a@b.test\r\nContent-Type: text/plain\r\n\r\nhello, a long post begins", false},
		{"clear, no header end yet", "From: a@b.test\r\nSubject: hi", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := MayOpen([]byte(tt.prefix)); got != tt.want {
				t.Errorf("MayOpen = %v, want %v", got, tt.want)
			}
		})
	}
}
