"""Templates cannot be turned against the reader or the machine, and never print blanks."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_documents_golden import borrower, view_of

from lendflow.config.policy import load_policy
from lendflow.config.product_spec import ProductSpec
from lendflow.domain.errors import BadInput
from lendflow.rendering import contents, product_views
from lendflow.rendering.contents import MissingContents
from lendflow.rendering.environment import render_user_template
from lendflow.rendering.lender import lender_view
from lendflow.rendering.rendering import missing_contents, render_kind

HOSTILE = "<script>alert(1)</script>"


def contract_for(name: str, locale: str = "zh-CN"):  # type: ignore[no-untyped-def]
    return replace(view_of("contract", locale), borrower=replace(borrower(), name=name))


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_customer_named_like_a_script_is_escaped_in_html(locale: str) -> None:
    html = render_kind("contract", contract_for(HOSTILE, locale), locale=locale, fmt="html")
    text = html.decode("utf-8")
    assert HOSTILE not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_a_customer_named_like_markup_is_escaped_in_markdown() -> None:
    text = render_kind("contract", contract_for(HOSTILE), fmt="md").decode("utf-8")
    assert HOSTILE not in text
    assert r"\<script\>alert(1)\</script\>" in text


def _override(folder: Path, name: str, body: str) -> Path:
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    return folder


def test_a_missing_variable_fails_loudly_naming_it(tmp_path: Path) -> None:
    folder = _override(
        tmp_path, "zh-CN/brochure.md.j2", "# {{ product.name }}\n{{ product.slogan }}\n"
    )
    with pytest.raises(BadInput, match=r"brochure\.md\.j2 line 2: .*slogan"):
        render_kind("brochure", view_of("brochure", "zh-CN"), fmt="md", templates=folder)


def test_a_value_that_is_none_is_refused_instead_of_printed() -> None:
    with pytest.raises(BadInput, match="empty"):
        render_user_template("Dear {{ name }}", {"name": None})


def test_the_sandbox_refuses_a_user_template_reaching_python_internals(tmp_path: Path) -> None:
    reach = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(BadInput, match="refused by the sandbox"):
        render_user_template(reach, {})
    folder = _override(
        tmp_path, "en/brochure.html.j2", "{{ product.__class__.__init__.__globals__ }}"
    )
    with pytest.raises(BadInput, match="refused by the sandbox"):
        render_kind("brochure", view_of("brochure", "en"), locale="en", templates=folder)
    with pytest.raises(BadInput, match="refused by the sandbox"):
        render_user_template("{{ terms.append(24) }}", {"terms": [3, 6, 12]})


def test_the_sandbox_gives_the_same_answer_every_time_it_is_asked() -> None:
    """It remembers its answer per type and attribute: what it refused once it refuses
    again, beside what it allows of the same object."""
    terms = [3, 6, 12]
    for _ in range(2):
        assert render_user_template("{{ terms.count(6) }}", {"terms": terms}) == "1"
        with pytest.raises(BadInput, match="refused by the sandbox"):
            render_user_template("{{ terms.append(24) }}", {"terms": terms})
        steps = (n for n in terms)
        with pytest.raises(BadInput, match="refused by the sandbox"):
            render_user_template("{{ steps.gi_frame }}", {"steps": steps})
        assert render_user_template("{{ kind.__name__ is defined }}", {"kind": int}) == "False"
        with pytest.raises(BadInput, match="refused by the sandbox"):
            render_user_template("{{ kind.mro }}", {"kind": int})
        # str.format is allowed, and wrapped so that it cannot reach internals either
        assert render_user_template("{{ pattern.format(6) }}", {"pattern": "{0} months"}) == (
            "6 months"
        )
        with pytest.raises(BadInput, match="refused by the sandbox"):
            render_user_template("{{ pattern.format(6) }}", {"pattern": "{0.__class__}"})
    assert terms == [3, 6, 12]


def test_a_user_template_may_override_one_file_and_keep_the_rest(tmp_path: Path) -> None:
    folder = _override(
        tmp_path,
        "zh-CN/lender.yaml",
        (Path(__file__).parents[2] / "lendflow/templates/zh-CN/lender.yaml")
        .read_text(encoding="utf-8")
        .replace("示例小额贷款有限公司", "某某小贷"),
    )
    lender = lender_view("zh-CN", folder)
    view = replace(view_of("brochure", "zh-CN"), lender=lender)
    assert "某某小贷" in render_kind("brochure", view, fmt="md", templates=folder).decode()


def test_the_lenders_particulars_are_read_again_once_the_file_changes(tmp_path: Path) -> None:
    """Kept once read (every notice names the lender), yet an edited `lender.yaml` is
    what the next document says, without restarting anything."""
    packaged = Path(__file__).parents[2] / "lendflow/templates/zh-CN/lender.yaml"
    source = packaged.read_text(encoding="utf-8")
    folder = _override(
        tmp_path, "zh-CN/lender.yaml", source.replace("示例小额贷款有限公司", "甲小贷")
    )
    assert lender_view("zh-CN", folder) == lender_view("zh-CN", folder)
    assert "甲小贷" in str(lender_view("zh-CN", folder))
    edited = _override(
        tmp_path, "zh-CN/lender.yaml", source.replace("示例小额贷款有限公司", "乙小贷")
    )
    later = (edited / "zh-CN/lender.yaml").stat().st_mtime + 5
    os.utime(edited / "zh-CN/lender.yaml", (later, later))
    assert "乙小贷" in str(lender_view("zh-CN", folder))


def test_a_template_that_drops_a_required_clause_is_refused(tmp_path: Path) -> None:
    source = (Path(__file__).parents[2] / "lendflow/templates/zh-CN/contract.md.j2").read_text(
        encoding="utf-8"
    )
    start = source.index("<!-- content: dispute -->")
    end = source.index("## 第十三条")
    folder = _override(tmp_path, "zh-CN/contract.md.j2", source[:start] + source[end:])
    with pytest.raises(MissingContents, match="dispute resolution") as refused:
        render_kind("contract", view_of("contract", "zh-CN"), fmt="md", templates=folder)
    assert refused.value.missing == [
        "dispute resolution (no section marked 'dispute' in the template)"
    ]


def _without_penalty(spec: ProductSpec) -> ProductSpec:
    return spec.model_copy(update={"penalty": None, "code": "no-penalty"})


def test_a_contract_for_a_product_without_penalty_terms_is_refused_clearly() -> None:
    from test_documents_golden import SIGNED_ON, spec

    product = _without_penalty(spec())
    view = product_views.contract_view(
        product,
        load_policy(None),
        lender_view("zh-CN"),
        locale="zh-CN",
        version=1,
        signed_on=SIGNED_ON,
        borrower=borrower(),
    )
    with pytest.raises(MissingContents) as refused:
        render_kind("contract", view, fmt="html")
    assert str(refused.value) == (
        "contract cannot be issued: missing penalty terms"
        " (product no-penalty declares no penalty interest)"
    )
    assert missing_contents("contract", view) == [
        "penalty terms (product no-penalty declares no penalty interest)"
    ]


def test_every_kind_declares_its_contents_and_the_shipped_templates_show_them() -> None:
    for kind in ("brochure", "contract", "risk-disclosure", "overdue-notice", "report"):
        for locale in ("zh-CN", "en"):
            assert missing_contents(kind, view_of(kind, locale), locale=locale) == []


_WHITESPACE_RUN = re.compile(r"\s+")


@given(st.text(alphabet=st.sampled_from(" \t\n\r\x0b\x0c\x1c\x85\xa0\u3000\u2028\u2009ab元,.<>&")))
def test_the_contents_check_squashes_whitespace_as_the_regular_expression_does(
    text: str,
) -> None:
    """The check for required contents compares texts with each run of whitespace made one
    space (ordinary, non-breaking, ideographic and line separators alike): its faster
    form gives exactly what the regular expression gives."""
    assert contents._squash(text) == _WHITESPACE_RUN.sub(" ", text)
