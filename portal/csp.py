"""Content-Security-Policy (django-csp 4): one strict, enforced policy for the portal, a looser one for
Wagtail's admin under /admin/ only.

The portal: scripts and styles from our own origin, or inline with this response's nonce
(`<script nonce="{{ request.csp_nonce }}">`); no inline event handlers or style attributes; no plugins,
no framing by other sites, forms post to our own origin only. The site makes no outbound calls, so
nothing else is listed.

Wagtail's admin (editor, page preview, image chooser) still relies on inline scripts and styles and on
blob:/data: images, so /admin/ replaces those directives; everything else stays as strict.
"""

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware

PORTAL_POLICY = {
    "default-src": [SELF],
    "script-src": [SELF, NONCE],
    "style-src": [SELF, NONCE],
    "img-src": [SELF, "data:"],
    "font-src": [SELF],
    "connect-src": [SELF],
    "frame-src": [SELF],
    "frame-ancestors": [SELF],
    "form-action": [SELF],
    "base-uri": [SELF],
    "object-src": [NONE],
}

WAGTAIL_ADMIN_PREFIX = "/admin/"
WAGTAIL_ADMIN_POLICY = {
    "script-src": [SELF, UNSAFE_INLINE],
    "style-src": [SELF, UNSAFE_INLINE],
    "img-src": [SELF, "data:", "blob:"],
    "media-src": [SELF, "blob:"],
}


class PortalCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(WAGTAIL_ADMIN_PREFIX):
            parts.replace = {**WAGTAIL_ADMIN_POLICY, **(parts.replace or {})}
        return parts
