package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// OpenAPIYAML is the API description, the contract every request is checked against.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// spec is the loaded document and its JSON rendering for GET /openapi.json.
type spec struct {
	doc  *openapi3.T
	json []byte
}

func loadSpec() (*spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("api: load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("api: openapi.yaml is invalid: %w", err)
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("api: render openapi.json: %w", err)
	}
	return &spec{doc: doc, json: j}, nil
}

// route returns the kin-openapi route of an operation, or an error if the document
// lacks it (a route table entry without documentation is a bug caught at start).
func (sp *spec) route(method, path string) (*routers.Route, error) {
	item := sp.doc.Paths.Value(path)
	if item == nil {
		return nil, fmt.Errorf("api: %s %s is not in openapi.yaml", method, path)
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil, fmt.Errorf("api: %s %s is not in openapi.yaml", method, path)
	}
	return &routers.Route{Spec: sp.doc, Path: path, PathItem: item, Method: method, Operation: op}, nil
}

var validationOptions = &openapi3filter.Options{
	AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
	RejectWhenRequestBodyNotSpecified: true,
}

// validate checks a request against its operation and returns the body it read.
//
// TS-0045 5.5.2.1: syntax (JSON, media type, size) and content (types, ranges, patterns,
// no unknown fields or parameters) of every input are checked before any handler runs.
func (s *Server) validate(r *http.Request, rt *routers.Route) ([]byte, error) {
	if err := checkQuery(r, rt.Operation); err != nil {
		return nil, err
	}
	if streamed(rt.Operation) {
		return nil, s.streamBody(r)
	}
	body, err := s.readBody(r, rt.Operation)
	if err != nil {
		return nil, err
	}
	params := map[string]string{}
	for _, p := range append(rt.PathItem.Parameters, rt.Operation.Parameters...) {
		if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
			params[p.Value.Name] = r.PathValue(p.Value.Name)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: rt, Options: validationOptions}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return nil, describeValidation(err)
	}
	return body, nil
}

func checkQuery(r *http.Request, op *openapi3.Operation) error {
	if strings.Contains(r.URL.RawQuery, ";") {
		return badRequest("invalid_request", "malformed query string", "")
	}
	for name := range r.URL.Query() {
		if p := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, name); p == nil {
			return badRequest("unknown_parameter", "unknown query parameter "+quoteShort(name), name)
		}
	}
	return nil
}

// maxUpload bounds a streamed upload (an offline update bundle).
const maxUpload = 600 << 20

// streamed reports an operation whose body is a file passed on as a stream (an offline
// update bundle): it is not read into memory nor checked against a schema here; its own
// parser bounds and checks it.
func streamed(op *openapi3.Operation) bool {
	return op.RequestBody != nil && op.RequestBody.Value != nil && op.RequestBody.Value.Content.Get("application/x-tar") != nil
}

func (s *Server) streamBody(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-tar" {
		return &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", msg: "send application/x-tar"}
	}
	if r.ContentLength > maxUpload {
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "body_too_large", msg: "update bundles are limited to 600 MiB"}
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxUpload)
	return nil
}

// readBody reads at most MaxBody bytes and checks the media type.
func (s *Server) readBody(r *http.Request, op *openapi3.Operation) ([]byte, error) {
	if op.RequestBody != nil {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return nil, &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", msg: "send application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.cfg.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "body_too_large", msg: fmt.Sprintf("request bodies are limited to %d bytes", s.cfg.MaxBody)}
	case err != nil:
		return nil, badRequest("invalid_request", "could not read the request body", "")
	case op.RequestBody == nil && len(body) > 0:
		return nil, badRequest("invalid_request", "this operation takes no request body", "")
	}
	return body, nil
}

// describeValidation turns a kin-openapi error into a short client message that names
// the offending field without echoing the input back.
func describeValidation(err error) error {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		ptr := "/" + strings.Join(se.JSONPointer(), "/")
		return badRequest("invalid_request", "invalid value at "+ptr+": "+se.Reason, ptr)
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		field := ""
		if re.Parameter != nil {
			field = re.Parameter.Name
			return badRequest("invalid_request", "invalid parameter "+field, field)
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) || strings.Contains(re.Error(), "failed to decode") {
			return badRequest("invalid_request", "the body is not valid JSON", "")
		}
		if errors.Is(err, openapi3filter.ErrInvalidRequired) {
			return badRequest("invalid_request", "a request body is required", "")
		}
		return badRequest("invalid_request", "the request does not match the API description", "")
	}
	return badRequest("invalid_request", "the request does not match the API description", "")
}

func quoteShort(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// decode unmarshals an already validated body strictly into v.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid_request", "the body does not match the API description", "")
	}
	if dec.More() {
		return badRequest("invalid_request", "trailing data after the JSON body", "")
	}
	return nil
}
