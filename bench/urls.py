from django.http import HttpResponse
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def floor(request):
    """The smallest Django response: what any page costs before it does any work."""
    return HttpResponse("ok")


urlpatterns = [path("__bench__/floor/", floor), *portal_urlpatterns]
