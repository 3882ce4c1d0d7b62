package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"

	"cloister/service"
)

// Error codes of the API on top of the service's (service.Code).
const (
	// CodeMethodNotAllowed answers a known path asked with another method.
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeRateLimited answers a client refused after too many failed
	// authentications.
	CodeRateLimited = "rate_limited"
	// CodeInternal answers an error the service did not classify.
	CodeInternal = "internal"
)

// statusOf maps a stable error code to its HTTP status.
var statusOf = map[string]int{
	"invalid":            http.StatusBadRequest,
	"unauthenticated":    http.StatusUnauthorized,
	"forbidden":          http.StatusForbidden,
	"not_found":          http.StatusNotFound,
	"conflict":           http.StatusConflict,
	"pending":            http.StatusAccepted,
	"unavailable":        http.StatusServiceUnavailable,
	"too_large":          http.StatusRequestEntityTooLarge,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeRateLimited:      http.StatusTooManyRequests,
	CodeInternal:         http.StatusInternalServerError,
}

// Status returns the HTTP status of an error code (500 for an unknown one).
func Status(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is a stable code and a message safe to show the caller.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// apiError builds a *service.Error with a code and message.
func apiError(code, msg string) error {
	return &service.Error{Code: code, Message: msg}
}

// writeError answers with err's code and safe message; the wrapped error
// goes to the log only.
func writeError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	code := service.Code(err)
	msg := "internal error"
	var se *service.Error
	if errors.As(err, &se) {
		msg = se.Message
		if se.Code == "" {
			code = CodeInternal
		}
	} else {
		code = CodeInternal
	}
	if _, ok := statusOf[code]; !ok {
		code = CodeInternal
	}
	if code == CodeInternal || code == "unavailable" {
		log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, Status(code), ErrorBody{Error: ErrorDetail{Code: code, Message: msg}})
}

// writeJSON writes v as the JSON response with the given status; an empty
// list is [], never null.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.IsNil() {
		v = []struct{}{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
