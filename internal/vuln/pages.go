package vuln

import (
	"embed"
	"html/template"
	"io"
)

//go:embed pages/*.html
var pageFiles embed.FS

// pages are the public HTML pages. html/template escapes everything a reporter wrote
// for its context; the pages carry no script and no inline style.
var pages = template.Must(template.ParseFS(pageFiles, "pages/*.html"))

// RenderPage writes the page name ("form", "submitted", "status", "policy",
// "support") with data.
func RenderPage(w io.Writer, name string, data any) error {
	return pages.ExecuteTemplate(w, name+".html", data)
}
