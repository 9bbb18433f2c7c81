"""Public-site URLs outside the page tree: search, feeds. Included before Wagtail's catch-all."""

from django.urls import path

from .feeds import PolicyFeed, PublicityFeed
from .search import search_view

app_name = "cms"

urlpatterns = [
    path("search/", search_view, name="search"),
    path("feeds/policies/", PolicyFeed(), name="feed-policies"),
    path("feeds/publicity/", PublicityFeed(), name="feed-publicity"),
]
