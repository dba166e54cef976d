package api

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"hearth/internal/auth"
	"hearth/internal/privacy"
	"hearth/internal/settings"
)

// apiError is an error with its HTTP status and stable code.
type apiError struct {
	status     int
	code, msg  string
	field      string
	retryAfter time.Duration
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

var (
	errNotFound        = &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such resource"}
	errUnauthenticated = &apiError{status: http.StatusUnauthorized, code: "unauthenticated", msg: "sign in first"}
	errMustChange      = &apiError{status: http.StatusForbidden, code: "password_change_required", msg: "choose a new password before using the device"}
	errInternal        = &apiError{status: http.StatusInternalServerError, code: "internal", msg: "internal error"}
)

func badRequest(code, msg, field string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, msg: msg, field: field}
}

// domainErrors maps sentinel errors of the domain packages to API errors.
var domainErrors = []struct {
	err error
	api *apiError
}{
	{auth.ErrInvalidCredentials, &apiError{status: http.StatusUnauthorized, code: "invalid_credentials", msg: "wrong user name or password"}},
	{auth.ErrUnauthenticated, errUnauthenticated},
	{auth.ErrForbidden, &apiError{status: http.StatusForbidden, code: "forbidden", msg: "your role does not allow this"}},
	{auth.ErrMustChangePassword, errMustChange},
	{auth.ErrReauthRequired, &apiError{status: http.StatusForbidden, code: "reauth_required", msg: "confirm your password (POST /api/v1/session/reauth) to change security settings"}},
	{auth.ErrSelf, &apiError{status: http.StatusForbidden, code: "cannot_modify_self", msg: "use your own account settings for this"}},
	{auth.ErrLastOwner, &apiError{status: http.StatusForbidden, code: "cannot_modify_self", msg: "the last owner cannot be removed"}},
	{auth.ErrNoUser, &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such user"}},
	{auth.ErrNoSession, &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such session"}},
	{auth.ErrUserExists, &apiError{status: http.StatusConflict, code: "user_exists", msg: "a user with this name exists"}},
	{auth.ErrBadRole, badRequest("invalid_request", "unknown role", "/role")},
	{auth.ErrBadUsername, badRequest("invalid_request", auth.ErrBadUsername.Error(), "/username")},
	{auth.ErrTokenLifetime, badRequest("token_lifetime", "token lifetime must be 1 to 365 days", "/expires_in_days")},
	{auth.ErrPasswordTooShort, badRequest("password_too_short", auth.ErrPasswordTooShort.Error(), "/new_password")},
	{auth.ErrPasswordTooLong, badRequest("password_too_long", auth.ErrPasswordTooLong.Error(), "/new_password")},
	{auth.ErrPasswordCommon, badRequest("password_common", auth.ErrPasswordCommon.Error(), "/new_password")},
	{auth.ErrPasswordReused, badRequest("password_reused", auth.ErrPasswordReused.Error(), "/new_password")},
	{auth.ErrPasswordContext, badRequest("password_context", auth.ErrPasswordContext.Error(), "/new_password")},
	{settings.ErrUnknown, badRequest("invalid_request", "unknown setting", "")},
	{privacy.ErrUnknownPurpose, badRequest("invalid_request", "unknown purpose", "")},
	{settings.ErrDeferral, badRequest("invalid_request", settings.ErrDeferral.Error(), "")},
	{auth.ErrBusy, &apiError{status: http.StatusServiceUnavailable, code: "busy", msg: "too many sign-ins in progress, retry shortly", retryAfter: time.Second}},
}

// toAPIError classifies err; unknown errors become 500 "internal".
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var locked *auth.LockedError
	if errors.As(err, &locked) {
		return &apiError{status: http.StatusTooManyRequests, code: "account_locked", msg: "too many failed sign-ins: the account is locked", retryAfter: locked.RetryAfter}
	}
	var limited *auth.RateLimitedError
	if errors.As(err, &limited) {
		return &apiError{status: http.StatusTooManyRequests, code: "rate_limited", msg: "too many attempts from this address", retryAfter: limited.RetryAfter}
	}
	for _, d := range domainErrors {
		if errors.Is(err, d.err) {
			return d.api
		}
	}
	return errInternal
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError sends err as JSON. Internal errors are logged by the caller's middleware,
// never described to the client.
func writeError(w http.ResponseWriter, _ *http.Request, err error) {
	ae := toAPIError(err)
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.retryAfter.Seconds()))))
	}
	writeJSON(w, ae.status, errorBody{Error: ae.code, Message: ae.msg, Field: ae.field})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal","message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
