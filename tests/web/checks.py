"""What every page and state must pass: axe-core (0 violations) and one language throughout."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"

# The word list: Latin words a Korean page may show (names of things with no Korean word
# in use), and words that must never reach a reader in either language (developer-speak).
LATIN_IN_KOREAN = {"QR", "MB"}
NEVER = {
    "low_score",
    "too_small",
    "Fail",
    "mine=true",
    "X-Huchu-Owner",
    "default #",
    "Delete?",
    "undefined",
    "null",
    "NaN",
}
HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]")

# Every piece of text a reader meets: visible text, alt texts, titles, labels, the tab's title.
# Content people typed (event names, photo titles) is marked data-user and not ours to translate;
# the language switch is marked with its own lang.
READER_TEXT = """() => {
  const skip = (el) => el.closest('[data-user], body [lang]');
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || skip(el) || el.closest('script, style')) continue;
    if (!el.checkVisibility || !el.checkVisibility()) continue;
    out.push(walker.currentNode.textContent);
  }
  for (const el of document.querySelectorAll('[alt], [title], [aria-label], [placeholder]')) {
    if (skip(el)) continue;
    for (const a of ['alt', 'title', 'aria-label', 'placeholder']) {
      if (el.hasAttribute(a)) out.push(el.getAttribute(a));
    }
  }
  out.push(document.title);
  return out.join('\\n');
}"""


def csp_violations(page: Any) -> list[str]:
    """What the page's Content-Security-Policy refused, as Chromium reports it, from now on."""
    found: list[str] = []

    def seen(message: Any) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", seen)
    return found


def axe(page: Any, where: str) -> None:
    """axe-core on the page as it is now: no violation of any rule it runs by default."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated, not added as a <script>: the pages' policy refuses inline scripts.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    result = page.evaluate("async () => (await axe.run(document)).violations")
    found = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result]
    assert not found, f"{where}: {found}"


def wrong_language(text: str, lang: str) -> list[str]:
    """Words in ``text`` that do not belong on a page in ``lang``."""
    bad = [w for w in NEVER if w in text]
    if lang == "ko":
        bad += sorted({w for w in LATIN_WORD.findall(text) if w not in LATIN_IN_KOREAN})
    else:
        bad += sorted(set(HANGUL.findall(text)))
    bad += EMOJI.findall(text)
    return bad


def one_language(page: Any, lang: str, where: str) -> None:
    assert page.locator("html").get_attribute("lang") == lang, where
    text = page.evaluate(READER_TEXT)
    assert not wrong_language(text, lang), f"{where}: {wrong_language(text, lang)}"


def check(page: Any, lang: str, where: str) -> None:
    """axe and the language check together: every state the tests reach calls this."""
    one_language(page, lang, where)
    axe(page, where)
