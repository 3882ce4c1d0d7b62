package smime

import "testing"

// TestTight: the plaintext of a CBC envelope passes only when everything
// outside the signed part is text and nothing follows the close delimiter.
func TestTight(t *testing.T) {
	const head = "MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b\"\r\n\r\n"
	const signed = "This is an S/MIME signed message\r\n--b\r\nContent-Type: text/plain\r\n\r\nh\xc3\xa9llo \x01 anything goes here\r\n--b\r\nContent-Type: application/pkcs7-signature\r\n\r\nMIIB\r\n--b--\r\n"
	for _, tc := range []struct {
		name  string
		plain string
		want  bool
	}{
		{"signed", head + signed, true},
		{"white space after the close delimiter", head + signed + "\r\n\r\n \t\r\n", true},
		{"text after the close delimiter", head + signed + "junk\r\n", false},
		{"garbage after the close delimiter", head + signed + "\x9c\x01\xff", false},
		{"garbage in the header", "MIME-Version: 1\x8f0\r\n" + head[19:] + signed, false},
		{"garbage in the preamble", head + "This is \x00" + signed[8:], false},
		{"garbage in the signature part", head + signed[:len(signed)-14] + "\xfe\r\n--b--\r\n", false},
		{"no close delimiter", head + signed[:len(signed)-7], false},
		{"first field changed through the IV", "LIME-Version: 1.0\r\n" + head[19:] + signed, false},
		{"version changed through the IV", "MIME-Version: 1\x0e0\r\n" + head[19:] + signed, false},
		{"starts with a Content- field", head[19:] + signed, true},
		{"starts with another field", "X-Note: hi\r\n" + head + signed, false},
		{"opaque signed-data", "Content-Type: application/pkcs7-mime; smime-type=signed-data\r\nContent-Transfer-Encoding: base64\r\n\r\nMIIB\r\n", true},
		{"opaque signed-data with garbage", "Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n\r\nMIIB\x80\r\n", false},
	} {
		if got := tight([]byte(tc.plain)); got != tc.want {
			t.Errorf("%s: tight = %v, want %v", tc.name, got, tc.want)
		}
	}
}
