package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/service"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/strictjson"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

// ErrorBody is the one error shape every endpoint returns.
//
//	{"error": {"code": "invalid_argument", "message": "...", "request_id": "...", "fields": {...}}}
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes one failure.
type ErrorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	RequestID string            `json:"request_id,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
}

func abort(c *gin.Context, status int, code, msg string, fields map[string]string) {
	c.AbortWithStatusJSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: msg, RequestID: requestID(c), Fields: fields}})
}

// fail maps a domain error to a status; anything unexpected is a 500 whose details stay in the log.
func fail(c *gin.Context, err error) {
	var rl *service.RateLimitedError
	var fe *user.FieldError
	switch {
	case errors.As(err, &fe):
		abort(c, http.StatusBadRequest, "invalid_argument", "request failed validation", map[string]string{fe.Field: fe.Reason})
	case errors.As(err, &rl):
		secs := int(rl.RetryAfter.Seconds() + 0.999)
		if secs < 1 {
			secs = 1
		}
		c.Header("Retry-After", strconv.Itoa(secs))
		abort(c, http.StatusTooManyRequests, "rate_limited", rl.Error(), nil)
	case errors.Is(err, user.ErrInvalidInput):
		abort(c, http.StatusBadRequest, "invalid_argument", err.Error(), nil)
	case errors.Is(err, user.ErrInvalidCredentials):
		abort(c, http.StatusUnauthorized, "invalid_credentials", user.ErrInvalidCredentials.Error(), nil)
	case errors.Is(err, user.ErrUnauthenticated):
		// The reason (expired, bad signature, reused) is logged, not told to the caller.
		c.Header("WWW-Authenticate", `Bearer realm="lab-3"`)
		logFor(c).Info("unauthenticated", zap.Error(err))
		abort(c, http.StatusUnauthorized, "unauthenticated", "missing, invalid, expired or revoked token", nil)
	case errors.Is(err, user.ErrForbidden):
		abort(c, http.StatusForbidden, "forbidden", err.Error(), nil)
	case errors.Is(err, user.ErrNotFound):
		abort(c, http.StatusNotFound, "not_found", err.Error(), nil)
	case errors.Is(err, user.ErrEmailTaken):
		abort(c, http.StatusConflict, "conflict", err.Error(), nil)
	case errors.Is(err, user.ErrUnavailable):
		c.Header("Retry-After", "1")
		logFor(c).Warn("dependency unavailable", zap.Error(err))
		abort(c, http.StatusServiceUnavailable, "unavailable", "a dependency is overloaded or down; retry later", nil)
	case errors.Is(err, context.DeadlineExceeded):
		logFor(c).Warn("deadline exceeded", zap.Error(err))
		abort(c, http.StatusGatewayTimeout, "deadline_exceeded", "the request took longer than its deadline", nil)
	case errors.Is(err, context.Canceled):
		abort(c, 499, "canceled", "client closed the request", nil)
	default:
		logFor(c).Error("internal error", zap.Error(err))
		abort(c, http.StatusInternalServerError, "internal", "internal error", nil)
	}
}

// maxBody bounds every JSON body; the limit is far above any legitimate request.
const maxBody = 16 << 10

// bind decodes exactly one JSON object into v with strictjson (keys spelled exactly, each once,
// strings valid UTF-8) and validates it.
func (a *API) bind(c *gin.Context, v any) bool {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		abort(c, http.StatusUnsupportedMediaType, "unsupported_media_type", "expected Content-Type: application/json", nil)
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			abort(c, http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("body larger than %d bytes", maxBody), nil)
			return false
		}
		abort(c, http.StatusBadRequest, "malformed_json", "could not read the body", nil)
		return false
	}
	if err := strictjson.Decode(body, v); err != nil {
		var fe *strictjson.FieldError
		if errors.As(err, &fe) {
			abort(c, http.StatusBadRequest, "invalid_argument", fe.Field+": expected valid UTF-8 text", map[string]string{fe.Field: "must be valid UTF-8"})
			return false
		}
		abort(c, http.StatusBadRequest, "malformed_json", "expected one JSON object with known fields, each once: "+jsonReason(err), nil)
		return false
	}
	return a.validate(c, v)
}

func jsonReason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "body is empty or truncated"
	case errors.Is(err, strictjson.ErrDuplicate), errors.Is(err, strictjson.ErrUnknownKey),
		errors.Is(err, strictjson.ErrNotObject), errors.Is(err, strictjson.ErrTrailing):
		return err.Error()
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	default:
		return "unparseable"
	}
}

func newValidator() func(*gin.Context, any) bool {
	v := validator.New(validator.WithRequiredStructEnabled())
	// "text": valid UTF-8 without control characters. PostgreSQL refuses NUL bytes in text, and no
	// name, email or department needs a control character.
	_ = v.RegisterValidation("text", func(fl validator.FieldLevel) bool { return isText(fl.Field().String()) })
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		return name
	})
	return func(c *gin.Context, s any) bool {
		err := v.Struct(s)
		if err == nil {
			return true
		}
		var verrs validator.ValidationErrors
		if !errors.As(err, &verrs) {
			abort(c, http.StatusBadRequest, "invalid_argument", err.Error(), nil)
			return false
		}
		fields := map[string]string{}
		for _, fe := range verrs {
			fields[fe.Field()] = describe(fe)
		}
		abort(c, http.StatusBadRequest, "invalid_argument", "request failed validation", fields)
		return false
	}
}

func describe(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "required"
	case "email":
		return "must be an email address"
	case "min":
		return "must be at least " + fe.Param() + " characters"
	case "max":
		return "must be at most " + fe.Param() + " characters"
	case "oneof":
		return "must be one of: " + fe.Param()
	case "text", "printascii", "alphanumunicode", "excludesall":
		return "contains characters that are not allowed"
	default:
		return "fails " + fe.Tag()
	}
}

func isText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}
