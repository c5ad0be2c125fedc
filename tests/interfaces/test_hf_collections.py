"""Hugging Face's own client, pinned (huggingface_hub 2.4), against papersift's collection routes with
a papersift API token: every collection call a script makes works unchanged, and what papersift does
not hold (another item type, someone else's collection, a read-only token) is a clear HF error."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError

from ..web_support import build_service, served

PAPERS = ["2405.99902", "2405.99903", "2405.99904"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    svc = build_service(tmp_path_factory.mktemp("hfcol"), lines=200)
    ada = svc.accounts.create_user("ada@example.org", "correct horse battery", "Ada Example")
    bob = svc.accounts.create_user("bob@example.org", "correct horse battery", "Bob Smith")
    tokens = {name: svc.accounts.create_token(user, "hf", scope)[1]
              for name, user, scope in (("ada", ada, "write"), ("bob", bob, "write"), ("ada-read", ada, "read"))}
    with served(svc) as base:
        yield svc, base, tokens


def test_every_collection_call_of_the_client(site):
    svc, base, tokens = site
    api = HfApi(endpoint=base, token=tokens["ada"])
    assert api.whoami()["name"] == "ada-example"
    made = api.create_collection("Quokka papers", description="retrieval, quokka style")
    assert made.slug.startswith("ada-example/quokka-papers-") and made.owner["name"] == "ada-example"
    assert api.create_collection("Quokka papers", exists_ok=True).slug == made.slug  # the 409 names the slug
    for pid in PAPERS:
        api.add_collection_item(made.slug, item_id=pid, item_type="paper", note=f"why {pid}")
    again = api.add_collection_item(made.slug, item_id=PAPERS[0], item_type="paper", exists_ok=True)
    assert [i.item_id for i in again.items] == PAPERS and again.items[0].note == f"why {PAPERS[0]}"
    got = api.get_collection(made.slug)
    assert [i.position for i in got.items] == [0, 1, 2] and all(i.item_type == "paper" for i in got.items)
    api.update_collection_item(made.slug, got.items[2].item_object_id, note="read first", position=0)
    got = api.get_collection(made.slug)
    assert [i.item_id for i in got.items] == [PAPERS[2], PAPERS[0], PAPERS[1]] and got.items[0].note == "read first"
    api.delete_collection_item(made.slug, got.items[1].item_object_id)
    assert [i.item_id for i in api.get_collection(made.slug).items] == [PAPERS[2], PAPERS[1]]
    renamed = api.update_collection_metadata(made.slug, title="Quokka reading", description="new")
    assert renamed.title == "Quokka reading" and renamed.slug != made.slug
    assert api.get_collection(made.slug).title == "Quokka reading"  # the old slug still finds it
    HfApi(endpoint=base, token=tokens["bob"]).create_collection("Other", private=False)
    listed = list(HfApi(endpoint=base).list_collections(item=f"papers/{PAPERS[1]}", sort="upvotes"))
    assert [c.slug for c in listed] == [renamed.slug] and listed[0].position == 0
    assert {c.title for c in HfApi(endpoint=base).list_collections(owner="bob-smith")} == {"Other"}
    api.delete_collection(renamed.slug)
    with pytest.raises(HfHubHTTPError) as gone:
        api.get_collection(renamed.slug)
    assert gone.value.response.status_code == 404
    api.delete_collection(renamed.slug, missing_ok=True)


def test_what_the_client_cannot_do_here(site):
    svc, base, tokens = site
    api = HfApi(endpoint=base, token=tokens["ada"])
    mine = api.create_collection("Private one", private=True)
    with pytest.raises(BadRequestError, match="papers only"):
        api.add_collection_item(mine.slug, item_id="gpt2", item_type="model")
    with pytest.raises(HfHubHTTPError) as hidden:  # someone else's private collection: as if absent
        HfApi(endpoint=base, token=tokens["bob"]).get_collection(mine.slug)
    assert hidden.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as anonymous:
        HfApi(endpoint=base).get_collection(mine.slug)
    assert anonymous.value.response.status_code == 404
    public = api.create_collection("Public one")
    with pytest.raises(HfHubHTTPError) as not_owner:
        HfApi(endpoint=base, token=tokens["bob"]).add_collection_item(public.slug, PAPERS[0], "paper")
    assert not_owner.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as read_only:
        HfApi(endpoint=base, token=tokens["ada-read"]).create_collection("Nope")
    assert read_only.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as no_token:
        HfApi(endpoint=base, token=False).create_collection("Nope", namespace="ada-example")
    assert no_token.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as unknown:
        api.get_collection("ada-example/nothing-here-999999")
    assert unknown.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as other_namespace:
        api.create_collection("Elsewhere", namespace="bob-smith")
    assert other_namespace.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as unknown_paper:
        api.add_collection_item(public.slug, "2401.99999", "paper")
    assert unknown_paper.value.response.status_code == 404
