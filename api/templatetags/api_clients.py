from django import template

from api.auth import sessions_of

register = template.Library()


@register.inclusion_tag("api/clients.html", takes_context=True)
def api_clients(context):
    """The signed-in person's API clients (app, mini-program) with a sign-out button each."""
    request = context["request"]
    return {
        "sessions": list(sessions_of(request.user)[:20]),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
