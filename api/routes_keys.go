package api

import (
	"net/http"

	"cloister/service"
)

// KeyAddBody adds a subscriber's OpenPGP key or S/MIME certificate.
type KeyAddBody struct {
	Address string `json:"address"`
	// Key is the armored OpenPGP key or the PEM certificate.
	Key string `json:"key"`
	// Bind binds the key to the address at once (the owner vouches for it).
	Bind bool `json:"bind,omitempty"`
}

var paramFingerprint = Param{"fingerprint", "revoke only this key (default: every key of the address)"}

func keyRoutes() []Route {
	return []Route{
		op(http.MethodGet, "/v1/lists/{list}/keys", "keyList", "The subscribers' keys and certificates with their state", ScopeRead,
			func(c *Call, _ none) ([]service.SubscriberKey, error) {
				return c.Svc.KeyList(c.Ctx, c.Actor, service.KeyListRequest{List: c.Path("list")})
			}),
		op(http.MethodPost, "/v1/lists/{list}/keys", "keyAdd", "Add a subscriber's key or certificate (bind, for a key whose user IDs lack the address: site:admin)", ScopeOwner,
			func(c *Call, b KeyAddBody) (service.SubscriberKey, error) {
				return c.Svc.KeyAdd(c.Ctx, c.Actor, service.KeyAddRequest{List: c.Path("list"), Address: b.Address, Key: []byte(b.Key), Bind: b.Bind})
			}).created(),
		op(http.MethodDelete, "/v1/lists/{list}/keys/{address}", "keyRevoke", "Revoke a subscriber's key binding", ScopeOwner,
			func(c *Call, _ none) (Done, error) {
				err := c.Svc.KeyRevoke(c.Ctx, c.Actor, service.KeyRevokeRequest{List: c.Path("list"), Address: c.Path("address"), Fingerprint: c.Query("fingerprint")})
				return Done{OK: err == nil}, err
			}).withQuery(paramFingerprint),
		op(http.MethodGet, "/v1/lists/{list}/listkey/{kind}", "listKeyExport", "The list's public OpenPGP key (kind openpgp) or S/MIME certificate (kind smime)", ScopeAny,
			func(c *Call, _ none) (Raw, error) {
				ex, err := c.Svc.ListKeyExport(c.Ctx, c.Actor, service.ListKeyRequest{List: c.Path("list"), Kind: c.Path("kind")})
				return Raw{ContentType: ex.ContentType, Data: ex.Data}, err
			}).rawOut("application/pgp-keys", "application/x-pem-file"),
	}
}
