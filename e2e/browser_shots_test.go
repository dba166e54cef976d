package e2e

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/chromedp/chromedp"
)

// Phone viewport of the screenshots (an ordinary 6.1-inch phone, in CSS pixels).
const phoneWidth, phoneHeight = 390, 844

// screenshotDir is where -screenshots writes, relative to the e2e package.
const screenshotDir = "../docs/screenshots"

// viewport is one screen size a page is shot at.
type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

var viewports = []viewport{
	{"desktop", desktopWidth, desktopHeight, false},
	{"phone", phoneWidth, phoneHeight, true},
}

// clippedControls lists the links, buttons and fields that are not wholly on screen
// horizontally: cut off by the window or by a box that scrolls or hides its overflow
// (a table that must be swiped sideways to reach its buttons, which a phone does not
// show).
const clippedControls = `(() => {
	const out = [];
	for (const el of document.querySelectorAll("a, button, input, select, textarea")) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) continue;
		let left = 0, right = document.documentElement.clientWidth;
		for (let p = el.parentElement; p; p = p.parentElement) {
			if (getComputedStyle(p).overflowX === "visible") continue;
			const c = p.getBoundingClientRect();
			left = Math.max(left, c.left + p.clientLeft);
			right = Math.min(right, c.left + p.clientLeft + p.clientWidth);
		}
		if (r.left < left - 1 || r.right > right + 1) {
			const what = (el.textContent || el.value || el.name || "").trim().slice(0, 30);
			out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + JSON.stringify(what) +
				" spans " + Math.round(r.left) + "-" + Math.round(r.right) + " px, visible " + Math.round(left) + "-" + Math.round(right));
		}
	}
	return out;
})()`

// shoot takes full-page PNG screenshots of the tab's page at desktop and phone width,
// named LANG-VIEWPORT-NAME.png, into a temporary directory and, with -screenshots, into
// docs/screenshots. At phone width the page must not scroll sideways: every part of it
// has to fit the screen.
func (tb *tab) shoot(name string) {
	tb.t.Helper()
	if tb.shots == "" {
		tb.shots = tb.t.TempDir()
	}
	for _, v := range viewports {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
		if v.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		tb.do(chromedp.EmulateViewport(v.width, v.height, opts...))
		if v.mobile {
			if w := js[int](tb, "document.documentElement.scrollWidth"); w > phoneWidth {
				tb.t.Errorf("%s: at phone width (%d px) the page is %d px wide and scrolls sideways", tb.where(), phoneWidth, w)
			}
			if cut := js[[]string](tb, clippedControls); len(cut) > 0 {
				tb.t.Errorf("%s: at phone width (%d px) controls are cut off:\n  %s", tb.where(), phoneWidth, strings.Join(cut, "\n  "))
			}
		}
		img := get(tb, chromedp.FullScreenshot(100))
		cfg, err := png.DecodeConfig(bytes.NewReader(img))
		if err != nil || int64(cfg.Width) != v.width {
			tb.t.Fatalf("%s: %s screenshot is not a %d px wide PNG: %v (width %d)", tb.where(), v.name, v.width, err, cfg.Width)
		}
		file := fmt.Sprintf("%s-%s-%s.png", tb.lang, v.name, name)
		if err := os.WriteFile(filepath.Join(tb.shots, file), img, 0o644); err != nil {
			tb.t.Fatal(err)
		}
		if *screenshots {
			if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
				tb.t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(screenshotDir, file), img, 0o644); err != nil {
				tb.t.Fatal(err)
			}
		}
	}
	tb.do(chromedp.EmulateViewport(desktopWidth, desktopHeight))
}
