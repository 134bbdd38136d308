"""axe-core (npm, pinned in package-lock.json; `make test` runs `npm ci`) injected into a
Playwright page. The site's CSP allows only its own scripts, so pages checked with axe
come from a context created with `bypass_csp=True`."""

from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# WCAG 2.0, 2.1 and 2.2, levels A and AA, and axe's best practices (landmarks,
# headings, region...). Experimental rules stay out: they change between releases.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]


def axe_violations(page) -> list[dict]:
    """The violations axe finds on the page as it is now: [{id, help, nodes: [targets]}]."""
    if not AXE_JS.is_file():
        raise RuntimeError(f"{AXE_JS} is missing: run `npm ci` (make test does).")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + "  " + n.failureSummary)}));
        }""",
        TAGS,
    )


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {node}" for node in violation["nodes"])
    return "\n".join(lines)
