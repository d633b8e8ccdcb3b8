"""The cleaners: HTML and markdown to clean text, links and URLs, tokens, and bad input."""

from __future__ import annotations


import polars as pl
import pytest

from housevoice.curate.clean import CleanSettings, clean_frame, clean_text, drop_tracking_params, html_to_text
from housevoice.curate.tokens import count_tokens, load_tokenizer
from housevoice.errors import HousevoiceError

WORDPRESS = (
    '<!-- wp:paragraph -->\n<p>First <strong>para</strong> with <a href="https://x.org/?utm_source=a&id=3">a link</a>.</p>\n'
    "<!-- /wp:paragraph -->\n\n<!-- wp:list -->\n<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul>\n<!-- /wp:list -->\n"
    '<h2>Heading</h2><pre class="wp-block-code"><code class="language-python">x = 1 &lt; 2</code></pre>'
    "<script>alert(1)</script><style>p{}</style><iframe src='https://v.example'></iframe>"
    '[caption id="1"]<img src="a.png"> A caption[/caption]\n[gallery ids="1,2"]\n'
)


def test_wordpress_html_becomes_paragraphs_lists_headings_and_code():
    text = clean_text(WORDPRESS)
    assert text.startswith("First para with a link.\n\n- one\n- two\n  - nested\n\n## Heading")
    assert "```python\nx = 1 < 2\n```" in text
    for gone in ("<p", "<a", "wp:", "alert", "caption", "gallery", "https://"):
        assert gone not in text


def test_page_builder_shortcodes_go_and_the_writing_they_wrap_stays():
    """Divi, WPBakery and other plugins wrap every paragraph of a marketing site in shortcodes of their own."""
    divi = (
        '[et_pb_section fb_built="1"][et_pb_row][et_pb_column type="4_4"][et_pb_text admin_label="Intro"]'
        "<p>Our spring sale starts <strong>Monday</strong>.</p>\n<p>Bring a friend.</p>[/et_pb_text][et_pb_divider /]"
        '[et_pb_button button_text="Shop now" button_url="https://x.com"][/et_pb_button][/et_pb_column][/et_pb_row][/et_pb_section]'
    )
    assert clean_text(divi) == "Our spring sale starts Monday.\n\nBring a friend."
    # A testimonial module holds a customer's words, not the site's voice.
    quoted = divi.replace("[et_pb_divider /]", '[et_pb_testimonial author="Jo Park"]<p>Best shop in town!</p>[/et_pb_testimonial]')
    assert clean_text(quoted) == "Our spring sale starts Monday.\n\nBring a friend."
    bakery = (
        '[vc_row][vc_column width="1/2"][vc_column_text]We bake bread every morning.\n\nCome by the shop.[/vc_column_text]'
        "[vc_raw_html]JTNDZGl2JTNF[/vc_raw_html][vc_empty_space][/vc_column][/vc_row]\n\n[mc4wp_form id=\"5\"]"
    )
    assert clean_text(bakery) == "We bake bread every morning.\n\nCome by the shop."
    # Markdown's own brackets are no shortcodes; code keeps its tags.
    markdown = "See [the docs][1], [sic] and [x], with `[vc_row][/vc_row]` in code.\n\n[1]: https://x.org"
    assert clean_text(markdown) == "See the docs, [sic] and [x], with `[vc_row][/vc_row]` in code."


def test_markdown_with_inline_tags_stays_markdown():
    text = "# Title\n\n- item with <b>bold</b>\n- `Vec<T>` stays\n\n```\n<div>code</div>\n```\n"
    assert clean_text(text) == "# Title\n\n- item with bold\n- `Vec<T>` stays\n\n```\n<div>code</div>\n```"


def test_links_keep_their_text_and_bare_urls_go():
    text = "See [the docs](https://doc.org/a) and https://x.com.\n\n[ref]: https://ref.org\n\nRead [more][ref] <https://auto.org>"
    assert clean_text(text) == "See the docs and.\n\nRead more"
    # A reference label wrapped onto the next line is still one.
    wrapped = "Costly ([3-30% regressions][compile-time\nregressions]) here.\n\n[compile-time regressions]: https://perf.org/a"
    assert clean_text(wrapped) == "Costly (3-30% regressions) here."
    placeholder = clean_text(text, CleanSettings(urls="placeholder", placeholder="<URL>"))
    assert placeholder == "See the docs and <URL>.\n\nRead more <URL>"


def test_parentheses_stay_unless_they_held_a_removed_address():
    text = "Call init() first, as the spec (https://x.org/spec) says. See [the docs](https://doc.org) or f()."
    assert clean_text(text) == "Call init() first, as the spec says. See the docs or f()."
    assert clean_text("Read more (<https://x.org>).") == "Read more."
    kept = clean_text(text, CleanSettings(urls="placeholder", placeholder="<URL>"))
    assert kept == "Call init() first, as the spec (<URL>) says. See the docs or f()."


def test_addresses_without_a_scheme_go_too_but_not_inside_names_or_link_text():
    text = "Visit www.example.com today, or www.acme.co.uk/shop?id=2 (www.x.org). `www.code.com` stays."
    assert clean_text(text) == "Visit today, or. `www.code.com` stays."
    placeholder = clean_text(text, CleanSettings(urls="placeholder"))
    assert placeholder == "Visit <URL> today, or <URL> (<URL>). `www.code.com` stays."
    kept = "The repository rust-lang/www.rust-lang.org and [www.rustup.rs] and mywww.thing; the www. prefix."
    assert clean_text(kept) == kept


def test_html_on_one_line_is_read_as_a_document():
    """A newsletter's or another CMS's export may hold a whole post on one line."""
    html = (
        "<p>Intro<br>second line with <code>x()</code>.</p><blockquote><p>Quoted words.</p><p>More.</p></blockquote>"
        "<ol><li>first</li><li>second</li></ol><table><tr><th>Name</th><th>Role</th></tr><tr><td>Ana</td><td>Editor</td></tr></table>"
        "<h2>Next</h2><ul><li><p>one</p></li><li><p>two</p></li></ul><p>Read <a href='https://e.org/p?utm_source=x&id=2'>the post</a>.</p>"
    )
    assert clean_text(html) == (
        "Intro\nsecond line with `x()`.\n\n> Quoted words.\n>\n> More.\n\n1. first\n2. second\n\n"
        "| Name | Role |\n| Ana | Editor |\n\n## Next\n\n- one\n- two\n\nRead the post."
    )
    assert clean_text(html, CleanSettings(urls="keep")).endswith("Read [the post](https://e.org/p?id=2).")


def test_an_email_layout_table_reads_as_its_blocks_and_a_data_table_as_rows():
    """Newsletters are built of nested layout tables; their text must not become one '| … |' line, twice."""
    letter = (
        '<table width="100%"><tr><td align="center"><table width="600"><tr><td><h1>Our March letter</h1>'
        "<p>Dear friends, spring is here.</p><p>We planted forty trees.</p><ul><li>Thank you</li><li>See you soon</li></ul>"
        "</td></tr><tr><td><p>View in browser</p></td></tr></table></td></tr></table>"
    )
    assert clean_text(letter) == (
        "# Our March letter\n\nDear friends, spring is here.\n\nWe planted forty trees.\n\n- Thank you\n- See you soon\n\nView in browser"
    )
    data = "<p>Data:</p><table><thead><tr><th>Name</th><th>Role</th></tr></thead><tbody><tr><td>Ana <b>R</b></td><td>Editor</td></tr></tbody></table>"
    assert clean_text(data) == "Data:\n\n| Name | Role |\n| Ana R | Editor |"


def test_no_break_spaces_from_references_and_invisible_characters_do_not_reach_clean_text():
    assert clean_text("<div>Hello&nbsp;world</div>\n<div>Next&nbsp;&nbsp;line</div>\n<div>x</div>") == "Hello world\n\nNext line\n\nx"
    assert clean_text("Plain &nbsp; markdown&nbsp;text with <b>tag</b>") == "Plain markdown text with tag"
    assert clean_text("Zero\u200bwidth, soft\u00adhyphen, \ufeffmark") == "Zerowidth, softhyphen, mark"
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # a zero-width joiner holds an emoji sequence together
    assert clean_text(f"Our {family} trip") == f"Our {family} trip"


def test_list_items_and_cells_sharing_a_line_in_markdown_keep_their_words_apart():
    text = "Intro text with `Vec<T>`.\n\nSteps: <ul><li>one</li><li>two</li></ul>\n\nA table <table><tr><td>a</td><td>b</td></tr></table> here.\n\n- markdown\n- list"
    cleaned = clean_text(text)
    assert "`Vec<T>`" in cleaned and "- one\n- two" in cleaned and "a b" in cleaned
    assert "onetwo" not in cleaned and "ab" not in cleaned.split()


def test_kept_urls_lose_tracking_parameters():
    text = clean_text("Go to https://x.org/a?utm_source=nl&id=7&fbclid=abc now", CleanSettings(urls="keep"))
    assert text == "Go to https://x.org/a?id=7 now"
    assert drop_tracking_params("https://x.org/?ref=feed") == "https://x.org/"


def test_urls_inside_code_are_left_alone():
    text = "```sh\ncurl https://sh.rustup.rs\n```\nrun `curl https://x.org`"
    assert clean_text(text) == text


def test_whitespace_and_unicode_are_normalised():
    assert clean_text("Cafe\u0301  \r\nline\r\n\r\n\r\n\r\nnext   ") == "Café\nline\n\nnext"


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n ", "\x00\x01\x02\ufffd", "<div>" * 50_000 + "deep" + "</div>" * 50_000, "<div>\n" * 3_000 + "deep" + "</div>\n" * 3_000],
)
def test_junk_and_empty_text_do_not_crash(text):
    assert isinstance(clean_text(text), str)


def test_a_five_megabyte_post_is_cleaned_whole():
    post = ("<p>A paragraph with <a href='https://x.org'>a link</a> and <em>words</em>.</p>\n" * 70_000)[:5_000_000]
    text = clean_text(post)
    assert "a link" in text and "<p>" not in text and "x.org" not in text
    assert text.count("A paragraph with a link and words.") == post.count("words</em>.")


def test_clean_frame_adds_clean_text_and_keeps_rows():
    frame = pl.DataFrame({"record_id": ["a", "b", "c"], "text": ["<p>x</p>", None, "plain"]})
    out = clean_frame(frame)
    assert out["record_id"].to_list() == ["a", "b", "c"]
    assert out["clean_text"].to_list() == ["x", "", "plain"]


def test_bad_clean_setting_is_rejected():
    with pytest.raises(ValueError):
        CleanSettings(urls="delete")


def test_bundled_tokenizer_counts_tokens():
    counts = count_tokens(["Hello world, this is a blog post.", ""], load_tokenizer(None))
    assert counts[0] > 5 and counts[1] == 0


def test_tokenizer_from_a_model_folder(tmp_path):
    from housevoice.curate.tokens import BUNDLED_TOKENIZER

    (tmp_path / "tokenizer.json").write_bytes(BUNDLED_TOKENIZER.read_bytes())
    assert count_tokens(["abc"], load_tokenizer(str(tmp_path))) == count_tokens(["abc"], load_tokenizer(None))


def test_hub_name_is_refused_with_an_offline_hint():
    with pytest.raises(HousevoiceError, match="not a local path; housevoice works offline"):
        load_tokenizer("meta-llama/Llama-3.1-8B")


def test_bad_tokenizer_paths_are_clear_errors(tmp_path):
    with pytest.raises(HousevoiceError, match="no tokenizer.json"):
        load_tokenizer(str(tmp_path))
    broken = tmp_path / "tokenizer.json"
    broken.write_text("{not json")
    with pytest.raises(HousevoiceError, match="not a tokenizer.json"):
        load_tokenizer(str(broken))
    with pytest.raises(HousevoiceError, match="no such file"):
        load_tokenizer(str(tmp_path / "missing" / "tok.json"))


def test_link_text_with_code_holding_brackets_keeps_only_the_text():
    text = "- [`<[T]>::reverse`](https://doc.rust-lang.org/std/x) and [`a[0]`][ref]\n\n[ref]: https://r.org"
    assert clean_text(text) == "- `<[T]>::reverse` and `a[0]`"


def test_code_is_untouched_while_links_around_it_are_cleaned():
    text = "See [docs](https://d.org) `https://kept.org` here.\n\n```\n[x](https://also.kept)\n```\nhttps://gone.org"
    assert clean_text(text) == "See docs `https://kept.org` here.\n\n```\n[x](https://also.kept)\n```"


def test_large_frames_clean_in_slices_with_the_same_result():
    texts = [f"Post {i}: see [the docs](https://d.org/{i}) and <b>bold</b> `Vec<T>`.\n\nNaïve café." for i in range(50)]
    frame = pl.DataFrame({"text": texts})
    one = clean_frame(frame, workers=1)["clean_text"]
    from housevoice.curate import clean

    saved = clean.CLEAN_CHUNK
    clean.CLEAN_CHUNK = 7
    try:
        sliced = clean_frame(frame, workers=2)["clean_text"]
    finally:
        clean.CLEAN_CHUNK = saved
    assert sliced.to_list() == one.to_list()
    assert one[0] == "Post 0: see the docs and bold `Vec<T>`.\n\nNaïve café."


def test_every_character_nfc_could_change_is_checked():
    import unicodedata

    from housevoice.curate.clean import _NOT_SURELY_NFC

    chars = [chr(cp) for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]
    checked = pl.Series(chars).str.contains(_NOT_SURELY_NFC).to_list()
    # Second halves of canonical pairs combine with the character before them.
    second = {
        int(d.split()[1], 16)
        for c in chars
        if (d := unicodedata.decomposition(c)) and not d.startswith("<") and len(d.split()) == 2
    }
    missed = [
        f"U+{ord(c):04X}"
        for c, ok in zip(chars, checked)
        if not ok and (unicodedata.combining(c) or ord(c) in second or unicodedata.normalize("NFC", c) != c)
    ]
    assert missed == []


def test_code_next_to_removed_links_and_tags_comes_back_in_place():
    text = (
        "[`a`]: https://x.org\n<b>`b`</b> and [`c[0]`](https://y.org) <a href=\"https://z.org\">`d`</a>\n"
        "![`e`](img.png) &amp; `f &amp;`"
    )
    assert clean_text(text) == "`b` and `c[0]` `d`\n& `f &amp;`"


def test_text_already_holding_private_use_characters_is_cleaned_the_same_way():
    # Such texts cannot be masked (the marks could collide), so they take the slower guarded path.
    plain = "See [docs](https://d.org) `[x](https://kept.org)` and <b>bold</b> &amp; more."
    marked = plain + " \ue010"
    assert clean_text(plain) == "See docs `[x](https://kept.org)` and bold & more."
    assert clean_text(marked) == clean_text(plain) + " \ue010"


def test_a_numeric_reference_to_a_private_use_character_does_not_swallow_code():
    # Unescaping writes the character the code masks are made of; that row is redone guarded.
    text = "Use `x` here <b>bold</b> &#57360; and `y` end"
    assert clean_text(text) == "Use `x` here bold \ue010 and `y` end"


def test_rows_with_and_without_code_clean_alike_together_and_alone():
    # Texts without code skip the masking; rows of both kinds (and the guarded ones) keep their order.
    texts = [
        "See [docs](https://d.org) and `[x](https://kept.org)` then <b>bold</b>.",
        "No code here, only [a link](https://l.org) &amp; https://bare.org words.",
        "Marks already \ue010 here and [a link](https://m.org).",
        "A reference &#57360; beside [a link](https://n.org) <i>and</i> ~~~ no fence",
        "```\n[kept](https://code.org)\n```\nafter [the fence](https://f.org).",
        "",
    ]
    together = clean_frame(pl.DataFrame({"text": texts}))["clean_text"].to_list()
    assert together == [clean_text(t) for t in texts]
    assert together[1] == "No code here, only a link & words." and "kept](https://code.org)" in together[4]


HUGO = (
    'Intro\n\n{{< youtube w7Ft2ymGmfc >}}\n\n{{% notice info %}}Mind the gap.{{% /notice %}}\n\n'
    '{{< highlight go "linenos=table" >}}\nfunc main() {}\n{{< /highlight >}}\n\n'
    '{{< figure\n  src="x.png"\n  caption="a > b"\n>}}\nLast words.'
)


def test_static_site_template_tags_go_and_keep_what_they_wrap():
    assert clean_text(HUGO) == "Intro\n\nMind the gap.\n\n```go\nfunc main() {}\n```\n\nLast words."
    jekyll = (
        "See [the post]({% post_url 2010-07-21-name %}) and ![x]({{ site.baseurl }}/img.png) here.\n\n"
        '{% include figure.html image="a.png" %}\n\n{% highlight ruby %}\nputs 1\n{% endhighlight %}\n\n'
        "{% comment %}draft note{% endcomment %}Done {{ page.title | upcase }}."
    )
    assert clean_text(jekyll) == "See the post and here.\n\n```ruby\nputs 1\n```\n\nDone."
    zola_and_go = '{{ youtube(id="abc") }}\n\nText {% note(kind="x") %}kept{% end %} here.\n\n{{code "a.go" `/func/` `/^}/`}}'
    assert clean_text(zola_and_go) == "Text kept here."


def test_template_tags_in_code_stray_braces_and_the_setting_off_are_left_alone():
    in_code = "```\n{{< youtube x >}}\n{% raw %}\n```\nand `{% raw %}` and `{{< y >}}`"
    assert clean_text(in_code) == in_code
    # A `{%` in prose does not reach over a blank line to a later `%}`; a lone `{{ x }}` mid-sentence is text.
    assert clean_text("A 50% {% stray\n\nnext paragraph %} stays.") == "A 50% {% stray\n\nnext paragraph %} stays."
    assert clean_text("Vue writes {{ message }} inline.") == "Vue writes {{ message }} inline."
    kept = clean_text(HUGO, CleanSettings(remove_template_tags=False))
    assert "{{< youtube w7Ft2ymGmfc >}}" in kept and "{{< /highlight >}}" in kept


MDX = """import Tabs from '@theme/Tabs';
import TabItem from '@theme/TabItem';
import {
  YouTube,
} from 'mdx-embed';

export const meta = {
  title: 'Planner',
};

# Our launch

{/* a note to the editors */}
We shipped the garden planner today. A `Vec<T>` holds plans, and so does a Vec<T> in prose.

<Callout type="info">
Read the **docs** before you start.
</Callout>

<YouTube youTubeId="abc123" />

More text with <Highlight color="red" style={{color: "red"}}>a highlight</Highlight> and an icon <Icon name="leaf" /> in it.

<Tabs>
  <TabItem value="js" label="JavaScript">

```jsx
import React from 'react';
export default () => <Button />;
```

  </TabItem>
</Tabs>

To import seeds, export the plan first.
"""


def test_mdx_imports_exports_comments_and_components_go_and_what_components_wrap_stays():
    assert clean_text(MDX) == (
        "# Our launch\n\nWe shipped the garden planner today. A `Vec<T>` holds plans, and so does a Vec<T> in prose.\n\n"
        "Read the **docs** before you start.\n\nMore text with a highlight and an icon in it.\n\n"
        "```jsx\nimport React from 'react';\nexport default () => <Button />;\n```\n\n"
        "To import seeds, export the plan first."
    )
    kept = clean_text(MDX, CleanSettings(remove_mdx=False))
    assert "import Tabs from '@theme/Tabs';" in kept and '<YouTube youTubeId="abc123" />' in kept
    # Prose that opens a paragraph with the word, and generics, are not MDX.
    prose = "Import duties rose in May.\n\nexport markets fell; a Map<K, V> and Option<String> stayed."
    assert clean_text(prose) == prose


def test_what_is_removed_mid_line_leaves_one_space_and_code_keeps_its_spacing():
    text = "See ![x](/a.png) here, <b>bold</b>  <img src='a'> ok.\n\n```\nx  =  1\n```\n\nand `a  b`  c"
    assert clean_text(text) == "See here, bold ok.\n\n```\nx  =  1\n```\n\nand `a  b` c"


def test_links_wrapped_over_lines_or_holding_brackets_keep_only_their_text():
    text = (
        "See [the open source\nrelease](https://go.dev/x) and [atomic.Pointer[T]](https://pkg.go.dev/a) "
        "or [the\nnotes][1] ok ![an\nimage](a.png).\n\n[1]: https://x.org\n\nA [b]\n\n[c](https://u.org) x[i]"
    )
    assert clean_text(text) == "See the open source release and atomic.Pointer[T] or the notes ok.\n\nA [b]\n\nc x[i]"
    kept = clean_text(text, CleanSettings(unwrap_paragraphs=False))
    assert kept == "See the open source\nrelease and atomic.Pointer[T] or the\nnotes ok.\n\nA [b]\n\nc x[i]"


WRAPPED = """Rust 1.0 is on its way! We have nailed down a concrete list of
features and are hard at work on implementing them.

- an item that wraps
  onto a second line
- another item

```rust
fn main() {
    let s = "keep
    lines";
}
```

    indented code
    stays

| a | b |
|---|---|
| 1 | 2 |

> a quote
> on two lines

Run by Ana.
Attending: Bo, Cy\\
and a line break with a backslash. Mixed `code that
wraps` joins.
## Heading
text after a heading"""


def test_wrapped_markdown_paragraphs_become_one_line_each():
    assert clean_text(WRAPPED) == (
        "Rust 1.0 is on its way! We have nailed down a concrete list of features and are hard at work on implementing them."
        "\n\n- an item that wraps onto a second line\n- another item\n\n"
        '```rust\nfn main() {\n    let s = "keep\n    lines";\n}\n```\n\n'
        "    indented code\n    stays\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> a quote\n> on two lines\n\n"
        "Run by Ana. Attending: Bo, Cy\\\nand a line break with a backslash. Mixed `code that wraps` joins.\n"
        "## Heading\ntext after a heading"
    )


def test_a_wordpress_posts_single_line_breaks_stay_and_a_markdown_files_join():
    """WordPress shows a classic post's single newline as a line break (a poem, an address)."""
    text = "Roses are red,\nviolets are <em>blue</em>.\n\nA second stanza\nwith two lines."
    frame = pl.DataFrame({"text": [text, text], "source": ["wordpress:blog.xml", "markdown:posts"]})
    assert clean_frame(frame)["clean_text"].to_list() == [
        "Roses are red,\nviolets are blue.\n\nA second stanza\nwith two lines.",
        "Roses are red, violets are blue.\n\nA second stanza with two lines.",
    ]


def test_a_line_break_of_two_spaces_and_html_line_breaks_stay():
    # Two spaces at a line's end are markdown's line break, also where a link went from the line.
    assert clean_text("Run by [Ana](https://a.org).  \nAttending: Bo\nand Cy.") == "Run by Ana.\nAttending: Bo and Cy."
    # An HTML document's lines are its own <br> breaks.
    assert clean_text("<p>12 Main Street<br>springfield</p><p>Second paragraph here.</p>") == "12 Main Street\nspringfield\n\nSecond paragraph here."



def test_line_breaks_inside_preformatted_and_verse_blocks_stay():
    """WordPress's preformatted and verse blocks write their lines with <br> inside <pre>."""
    poem = (
        "<p>A poem.</p>\n"
        '<pre class="wp-block-verse">The Road<br><br>Two roads diverged <br>  in a yellow wood,<br>And sorry</pre>\n'
        '<pre class="wp-block-preformatted">name   age<br>Ana    <em>31</em><br><img src="x.png">Bo     4</pre>'
    )
    assert clean_text(poem) == (
        "A poem.\n\nThe Road\n\nTwo roads diverged\nin a yellow wood,\nAnd sorry\n\n```\nname   age\nAna    31\nBo     4\n```"
    )


def test_a_classic_editor_post_with_a_few_p_tags_keeps_its_blank_line_paragraphs():
    """WordPress breaks a classic post's text into paragraphs at blank lines, even where the post
    holds a <p> somewhere (a quote, an aligned paragraph); text inside a paragraph still flows."""
    post = (
        "<h2>HTML Tags</h2>\nThese tags come from the FAQ.\n\n<strong>Address Tag</strong>\n\n"
        "<blockquote><p>A quoted\nparagraph.</p></blockquote>\nFirst line\nsecond line.\n\n"
        '<p style="text-align:center;">A centred paragraph\nwrapped in the source.</p>'
    )
    assert clean_text(post) == (
        "## HTML Tags\n\nThese tags come from the FAQ.\n\nAddress Tag\n\n> A quoted paragraph.\n\n"
        "First line\nsecond line.\n\nA centred paragraph wrapped in the source."
    )
    # Blank-line paragraphs between block tags and no markdown at all: a classic post, read as HTML
    # (its ordered list keeps its numbers, as a markdown copy of the post writes them).
    prose = "".join(f"Paragraph {n} of the post, written in the editor's visual mode.\n\n" for n in range(10))
    lists = prose + "We changed two things:\n<ol>\n<li>the <em>build</em></li>\n<li>the docs</li>\n</ol>\nThat is all."
    assert clean_text(lists) == prose + "We changed two things:\n\n1. the build\n2. the docs\n\nThat is all."
    # Images alone do not make a plain markdown post HTML: its wrapped lines still join.
    wrapped = prose.replace("post, written", "post,\nwritten") + "<img src='a.png'>\n\nThe end.\n\n<img src='b.png'>"
    assert clean_text(wrapped) == prose + "The end."
    # A block-editor post is HTML all through: its newlines between tags are only layout. A file
    # block's "Download" button is the page's, not the writer's.
    file_block = (
        '<!-- wp:file -->\n<div class="wp-block-file"><a href="https://x.org/r.pdf">Annual report</a>'
        '<a href="https://x.org/r.pdf" class="wp-block-file__button" download>Download</a></div>\n<!-- /wp:file -->'
    )
    assert clean_text(file_block) == "Annual report"
    blocks = "<!-- wp:paragraph -->\n<p>One\nflowing paragraph.</p>\n<!-- /wp:paragraph -->\n\n<p>Two.</p>"
    assert clean_text(blocks) == "One flowing paragraph.\n\nTwo."
    # An embedded social post (the blockquote a tweet embed falls back to) and a latest-posts list are embeds.
    embeds = (
        "<p>We spoke at the meetup.</p><blockquote class=\"twitter-tweet\"><p>Great talk by the Acme team!</p>&mdash; "
        "Someone (@someone) <a href=\"https://twitter.com/x/status/1\">May 3, 2024</a></blockquote>"
        '<ul class="wp-block-latest-posts__list wp-block-latest-posts"><li><a href="/a">Another post</a></li></ul><p>Thanks.</p>'
    )
    assert clean_text(embeds) == "We spoke at the meetup.\n\nThanks."
    # The same embed code pasted into a markdown post.
    pasted = (
        "# Meetup\n\nWe *spoke* at the meetup.\n\n<blockquote class=\"twitter-tweet\" data-dnt=\"true\"><p lang=\"en\">Great talk!</p>"
        "&mdash; Someone (@someone) <a href=\"https://twitter.com/x/status/1\">May 3, 2024</a></blockquote>\n"
        '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n\nThanks.'
    )
    assert clean_text(pasted) == "# Meetup\n\nWe *spoke* at the meetup.\n\nThanks."


def test_spaces_a_browser_would_not_show_go():
    # Two text nodes meeting at a tag ('inserted </ins> text') show one space; an image that opened
    # a line leaves no space before its first word, in an HTML document and in markdown alike.
    document = "<p>This <ins>inserted </ins> text.</p><p><img src='a.png'> The rest of it.</p><pre>keep  these   spaces</pre>"
    assert clean_text(document) == "This inserted text.\n\nThe rest of it.\n\n```\nkeep  these   spaces\n```"
    markdown = "Intro.\n\n![a chart](https://x.org/c.png) The rest of it, `with  code`.\n\n    indented code stays"
    assert clean_text(markdown) == "Intro.\n\nThe rest of it, `with  code`.\n\n    indented code stays"

def test_whitespace_in_html_text_is_what_a_browser_shows():
    # Runs of any whitespace in running text are one space (no-break and ideographic spaces too);
    # a classic-editor post's line breaks outside paragraphs are its own; blank runs become one
    # blank line, and no line keeps trailing spaces or, after a blank line, its indentation.
    document = "<p>One \t two\n   three\u00a0\u00a0four\u3000five</p>\n\n\n\n<p>  six  </p>"
    assert html_to_text(document) == "One two three four five\n\nsix"
    classic = "<h2>Title</h2>\nFirst line   \n  second line\n\n\n\n   Next paragraph\n<ul>\n<li>item</li>\n</ul>"
    assert html_to_text(classic) == "## Title\n\nFirst line\nsecond line\n\nNext paragraph\n\n- item"
    # With a few <p> tags, the text outside them is a classic post's lines, a block-editor post's layout.
    mixed = "<p>Intro</p>\nloose   text\n  more\n<ul>\n<li>item</li>\n</ul>"
    assert html_to_text(mixed) == "Intro\n\nloose text\nmore\n\n- item"
    assert html_to_text(mixed, classic=False) == "Intro\n\nloose text more\n\n- item"
    assert html_to_text("<p> \n </p>") == ""


def test_character_references_in_markdown_become_characters_but_not_in_code():
    text = "Caf&eacute; &ndash; it&#8217;s &#x2019;fine&#x2019;, `&amp;` stays\n\n```\n&lt;b&gt;\n```"
    assert clean_text(text) == "Café – it’s ’fine’, `&amp;` stays\n\n```\n&lt;b&gt;\n```"


def test_markdown_escapes_become_their_characters_outside_code():
    text = r"Use x86\_64 and \*not emphasis\* or \[rustdoc\] \\ path, but `a\_b` and" + "\n\n```\nx\\_y\n```"
    assert clean_text(text) == "Use x86_64 and *not emphasis* or [rustdoc] \\ path, but `a\\_b` and\n\n```\nx\\_y\n```"
    assert clean_text(r"a\_b", CleanSettings(unescape_markdown=False)) == r"a\_b"
    # A backslash before a letter is no escape.
    assert clean_text(r"C:\Users\n") == r"C:\Users\n"


def test_transcript_timestamps_and_stage_directions_are_not_words():
    turn = (
        r"\[06:09\] They have a couple of versions. \[laughs\] That's it. [01:02:03.5] And [Crosstalk] more"
        r" [unintelligible 00:43:06.16]. [HighNote 01:37:35.25] Yes (laughs)." + "\n\n[LAUGHTER]"
    )
    assert clean_text(turn) == "They have a couple of versions. That's it. And more. Yes."
    # Texts that cannot be masked take the guarded path to the same result.
    line = r"\[06:09\] Well \[laughs\] x86\_64 `a\_b` ok"
    assert clean_text(line) == "Well x86_64 `a\\_b` ok"
    assert clean_text(line + " \ue010") == clean_text(line) + " \ue010"
    # Brackets that are text stay; in code a timestamp is the code's.
    kept = (
        "See [rustdoc] and [CLOSED] at [10:30am], [laughing matter], [meet at 10:30], a (static) method, a (pause)"
        "\n\n```\n[12:00] log line\n```\n\n`[laughs]`"
    )
    assert clean_text(kept) == kept
    # Show notes set a break apart as a line of its own, in bold or italics, maybe with its time;
    # the same word inside a sentence is someone's word.
    notes = "We will be right back.\n\n**Break**: \\[16:15\\]\n\n*[Music]*\n\nWelcome back. Take a **break** sometimes."
    assert clean_text(notes) == "We will be right back.\n\nWelcome back. Take a **break** sometimes."
    off = clean_text(turn, CleanSettings(remove_transcript_marks=False))
    assert "[06:09]" in off and "[laughs]" in off and "[LAUGHTER]" in off
    with pytest.raises(Exception, match="remove_transcript_marks"):
        CleanSettings.model_validate({"remove_transcript_marks": "sometimes"})


def test_shortcut_reference_links_keep_their_words_where_the_label_is_defined():
    text = (
        "We [upgraded to LLVM 6] and read [the docs][d]; a [literal] stays, as does `[upgraded to LLVM 6]` in code.\n"
        "See the [meeting\ncalendar]: it moved.\n\n"
        "[Upgraded  to LLVM 6]: https://llvm.org\n[d]: https://docs.org\n[meeting calendar]: https://cal.org"
    )
    assert clean_text(text) == (
        "We upgraded to LLVM 6 and read the docs; a [literal] stays, as does `[upgraded to LLVM 6]` in code. "
        "See the meeting calendar: it moved."
    )
    # A label holding code ("[`serde`]", common in technical posts) is a link where the text defines it.
    code = "Use [`serde`] with `x`, and [`toml`], not [`undefined`].\n\n[`serde`]: https://serde.rs\n[`toml`]: https://toml.io"
    assert clean_text(code) == "Use `serde` with `x`, and `toml`, not [`undefined`]."


def test_footnote_markers_and_images_by_reference_go_and_a_footnote_keeps_its_words():
    text = (
        "Not supported in types![^tait] and here[^2].\n\n![A screenshot of the error][shot]\n\n"
        "Code `[^x]` and `![a][b]` stays, as does #![feature(x)] in prose.\n\n"
        "[shot]: https://x.org/e.png\n[^tait]: This feature is called TAIT.\n[^2]: A second note."
    )
    assert clean_text(text) == (
        "Not supported in types! and here.\n\nCode `[^x]` and `![a][b]` stays, as does #![feature(x)] in prose.\n\n"
        "This feature is called TAIT.\n\nA second note."
    )


def test_a_link_address_holding_parentheses_goes_whole():
    text = "Windows uses [SEH](https://msdn.microsoft.com/library/ms680657(v=vs.85).aspx) here ![x](a_(b).png)."
    assert clean_text(text) == "Windows uses SEH here."


def test_an_html_ordered_list_in_markdown_keeps_its_numbers():
    """Markdown with an HTML `<ol>` (a post pasted from another editor) read as "- " items: the
    numbers a reader sees were lost, and an export of the same post as HTML kept them."""
    text = (
        "# Plan\n\nSome *markdown* with `code` and a [link](https://x.org).\n\nWe will:\n"
        '<ol start="3">\n  <li>fix the <em>build</em></li>\n  <li>write the docs<ul><li>a guide</li></ul></li>\n'
        "  <li>ship</li>\n</ol>\n\n- a markdown item\n\nOn one line: <ol><li>one</li> <li>two</li></ol> and <ul><li>u</li></ul>"
    )
    assert clean_text(text) == (
        "# Plan\n\nSome *markdown* with `code` and a link.\n\nWe will:\n\n3. fix the build\n4. write the docs\n\n- a guide\n\n"
        "5. ship\n\n- a markdown item\n\nOn one line:\n\n1. one\n2. two and\n\n- u"
    )
    # A list tag inside code stays as written.
    assert clean_text("Use `<ol><li>x</li></ol>` for *steps*:\n\n<ol><li>first</li></ol>") == (
        "Use `<ol><li>x</li></ol>` for *steps*:\n\n1. first"
    )


def test_html_documents_render_in_processes_of_their_own_with_the_same_clean_text(monkeypatch):
    import housevoice.curate.clean as clean

    documents = [
        f"<h2>Post {n}</h2>\n<p>Paragraph   one of <em>post</em> {n}, with <a href='https://x.org/{n}'>a link</a>.</p>\n"
        f"<ul>\n<li>item {n}</li>\n</ul>\n<pre><code class='language-rust'>fn main() {{ }}</code></pre>"
        for n in range(80)
    ]
    frame = pl.DataFrame({"text": documents + ["Plain *markdown* post."], "source": ["wordpress:x"] * 81})
    settings = CleanSettings(remove_boilerplate=False)  # (every post shares its lines, numbers aside)
    here = clean_frame(frame, settings, workers=1)
    started = []
    real = clean._document_processes

    def spy(texts, processes):
        pool = real(texts, processes)
        started.append(pool)
        return pool

    monkeypatch.setattr(clean, "PROCESS_MIN_DOCUMENTS", 10)
    monkeypatch.setattr(clean, "_document_processes", spy)
    apart = clean_frame(frame, settings, workers=1, processes=2)
    assert started and started[0] is not None
    assert started[0]._max_workers == 2
    many = real(frame["text"], 64)  # a CPU count of a large machine: capped
    assert many._max_workers == clean.MAX_DOCUMENT_PROCESSES
    many.shutdown()
    assert apart["clean_text"].to_list() == here["clean_text"].to_list()
    assert here["clean_text"][0] == "## Post 0\n\nParagraph one of post 0, with a link.\n\n- item 0\n\n```rust\nfn main() { }\n```"
    # Too few documents, or one process: no processes are started.
    started.clear()
    monkeypatch.setattr(clean, "PROCESS_MIN_DOCUMENTS", 1000)
    clean_frame(frame, workers=1, processes=2)
    clean_frame(frame.head(3), workers=1, processes=1)
    assert started == [None, None]


def _exit_now(_: str) -> str:
    import os

    os._exit(3)


def test_work_sent_to_processes_that_died_is_done_here():
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from housevoice.curate.code_masks import python_per_row

    texts = pl.Series(["a", "b", "c"] * 30)
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        with pytest.raises(Exception):
            list(pool.map(_exit_now, ["x"]))  # the process dies: the pool is broken
        out = python_per_row(texts, pl.Series([True, False, True] * 30), str.upper, pool)
    assert out.to_list() == ["A", "b", "C"] * 30


def test_a_rendering_process_leaves_ctrl_c_to_the_parent(monkeypatch):
    import os
    import signal

    import housevoice.curate.clean as clean

    monkeypatch.setattr(clean, "PROCESS_MIN_DOCUMENTS", 1)
    pool = clean._document_processes(pl.Series(["<p>a</p>"]), 2)
    try:
        pid = pool.submit(os.getpid).result()
        os.kill(pid, signal.SIGINT)
        assert pool.submit(os.getpid).result() > 0  # (a process that died of it would have broken the pool)
        assert list(pool.map(clean.html_to_text, ["<p>one</p>", "<ul><li>two</li></ul>"])) == ["one", "- two"]
    finally:
        pool.shutdown()
