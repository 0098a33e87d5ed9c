"""Claude sees what its cells draw: images in the tool result, downscaled, capped per turn."""

import base64
import io
import re

import pytest
from PIL import Image

from jupyter_nbchat.llm.images import describe_svg, prepare
from jupyter_nbchat.testing.plugin import of_type

BIG_CHART = (
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(40, 24), dpi=100)\n"
    "ax.bar(['north', 'south'], [3, 5])\n"
    "ax.set_title('Sales by region')\n"
    "plt.show()"
)


def small_charts(count):
    return (
        "import matplotlib.pyplot as plt\n"
        f"for i in range({count}):\n"
        "    plt.figure(figsize=(2, 2), dpi=50)\n"
        "    plt.plot([0, i])\n"
        "    plt.show()"
    )


def tool_result(request):
    """The tool_result block a Messages API request ends with."""
    block = request["body"]["messages"][-1]["content"][0]
    assert block["type"] == "tool_result"
    return block


def parts(result):
    """(text, image blocks) of a tool_result, whether its content is a string or blocks."""
    if isinstance(result["content"], str):
        return result["content"], []
    texts = [b["text"] for b in result["content"] if b["type"] == "text"]
    return "\n".join(texts), [b for b in result["content"] if b["type"] == "image"]


def decoded(block):
    return Image.open(io.BytesIO(base64.b64decode(block["source"]["data"], validate=True)))


async def test_a_chart_reaches_claude_downscaled(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code(BIG_CHART), claude_standin.text("A bar chart of two regions."))
    events = await nbchat.ask(notebook_path, "Plot sales by region")
    # The notebook keeps the full-size figure ...
    code = [c for c in of_type(events, "cell") if c["role"] == "code"][0]["cell"]
    (figure,) = [o for o in code["outputs"] if "image/png" in o.get("data", {})]
    full = Image.open(io.BytesIO(base64.b64decode(figure["data"]["image/png"])))
    assert max(full.size) >= 3000
    # ... and Claude's second request carries it as an image block, after the text naming it.
    result = tool_result(claude_standin.requests[1])
    text, images = parts(result)
    assert result["content"][0]["type"] == "text" and len(images) == 1
    assert images[0]["source"]["type"] == "base64" and images[0]["source"]["media_type"] == "image/png"
    image = decoded(images[0])
    assert image.format == "PNG" and max(image.size) == 1024  # NbChat.image_max_px
    assert abs(image.size[0] / image.size[1] - full.size[0] / full.size[1]) < 0.01
    assert f"image 1, shown below, {image.size[0]}×{image.size[1]} px, downscaled from {full.size[0]}×{full.size[1]}" in text
    assert "<Figure size" in text  # the text/plain of the output is still there
    assert "degenerate pie" in claude_standin.requests[0]["body"]["system"][0]["text"]  # told to check it
    # The stand-in counts image tokens as the API does (width x height / 750): the usage
    # figures include what the image cost.
    first, last = of_type(events, "usage")[0], of_type(events, "usage")[-1]
    def billed(usage):  # uncached, written to and read from the prompt cache
        return usage["input_tokens"] + usage["cache_creation_input_tokens"] + usage["cache_read_input_tokens"]

    assert billed(last) - 2 * billed(first) >= image.size[0] * image.size[1] // 750


class TestCapPerTurn:
    @pytest.fixture
    def nbchat_config(self):
        return {"max_images_per_turn": 2}

    async def test_images_past_the_cap_are_named_not_sent(self, nbchat, claude_standin, notebook_path):
        claude_standin.script(
            claude_standin.code(small_charts(1)),
            claude_standin.code(small_charts(4)),
            claude_standin.text("Five lines."),
        )
        await nbchat.ask(notebook_path, "Draw five charts")
        first_text, first_images = parts(tool_result(claude_standin.requests[1]))
        second_text, second_images = parts(tool_result(claude_standin.requests[2]))
        assert len(first_images) == 1 and "image 1, shown below" in first_text
        # The cap counts the whole turn: one more image, then three named in text.
        assert len(second_images) == 1 and "image 2, shown below" in second_text
        assert second_text.count("(image not shown: limit of 2 per turn)") == 3
        assert "downscaled" not in first_text + second_text  # small charts go as drawn


async def test_the_persons_setting_turns_it_off(nbchat, claude_standin, notebook_path):
    claude_standin.script(claude_standin.code(small_charts(1)), claude_standin.text("A line."))
    await nbchat.ask(notebook_path, "Draw it", images_to_claude=False)
    result = tool_result(claude_standin.requests[1])
    assert isinstance(result["content"], str) and '"image"' not in str(result)
    assert "[image/png displayed] (not shown to you: images are turned off)" in result["content"]
    # Not set in the request: the server's default (on).
    claude_standin.script(claude_standin.code(small_charts(1)), claude_standin.text("A line."))
    await nbchat.ask(notebook_path, "Draw it again")
    assert len(parts(tool_result(claude_standin.requests[3]))[1]) == 1


class TestServerDefaultOff:
    @pytest.fixture
    def nbchat_config(self):
        return {"images_to_claude": False}

    async def test_the_request_wins_over_the_server_default(self, nbchat, claude_standin, notebook_path):
        claude_standin.script(claude_standin.code(small_charts(1)), claude_standin.text("A line."))
        await nbchat.ask(notebook_path, "Draw it")
        assert "images are turned off" in tool_result(claude_standin.requests[1])["content"]
        claude_standin.script(claude_standin.code(small_charts(1)), claude_standin.text("A line."))
        await nbchat.ask(notebook_path, "Draw it, and look", images_to_claude=True)
        assert len(parts(tool_result(claude_standin.requests[3]))[1]) == 1


async def test_a_jpeg_is_sent_as_jpeg(nbchat, claude_standin, notebook_path):
    code = (
        "import io\n"
        "from PIL import Image as PILImage\n"
        "from IPython.display import Image, display\n"
        "buffer = io.BytesIO()\n"
        "PILImage.new('RGB', (2400, 1200), (200, 30, 30)).save(buffer, 'JPEG')\n"
        "display(Image(data=buffer.getvalue(), format='jpeg'))"
    )
    claude_standin.script(claude_standin.code(code), claude_standin.text("A red picture."))
    await nbchat.ask(notebook_path, "Show a photo")
    text, images = parts(tool_result(claude_standin.requests[1]))
    assert len(images) == 1 and images[0]["source"]["media_type"] == "image/jpeg"
    image = decoded(images[0])
    assert image.format == "JPEG" and image.size == (1024, 512)
    assert "[image/jpeg: image 1, shown below, 1024×512 px, downscaled from 2400×1200]" in text


async def test_an_svg_is_described_in_words(nbchat, claude_standin, notebook_path):
    code = (
        "import matplotlib.pyplot as plt\n"
        "from matplotlib_inline.backend_inline import set_matplotlib_formats\n"
        "from IPython.display import SVG, display\n"
        "set_matplotlib_formats('svg')\n"
        "plt.bar(['north', 'south'], [3, 5])\n"
        "plt.title('Quarterly revenue')\n"
        "plt.show()\n"
        "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"40\">"
        "<title>Hand drawn</title><text x=\"1\" y=\"20\">only <tspan>label</tspan></text></svg>'))"
    )
    claude_standin.script(claude_standin.code(code), claude_standin.text("Two SVGs."))
    await nbchat.ask(notebook_path, "Draw an SVG")
    result = tool_result(claude_standin.requests[1])
    assert isinstance(result["content"], str)  # words only: no image block
    text = result["content"]
    assert text.count("[image/svg+xml displayed, described in words (not shown as an image): ") == 2
    matplotlib_part = re.search(r"\d+(\.\d+)?pt × \d+(\.\d+)?pt; its text: (.*)\]", text).group(3)
    assert '"Quarterly revenue"' in matplotlib_part and '"north"' in matplotlib_part
    assert '120 × 40; its text: "Hand drawn", "only label"]' in text


def test_unreadable_and_mislabelled_images():
    """Bad data is named, never sent; a PNG labelled JPEG is sent as the JPEG it claims."""
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "blue").save(buffer, "PNG")
    png = base64.b64encode(buffer.getvalue()).decode()
    outputs = [
        {"output_type": "display_data", "data": {"image/png": base64.b64encode(b"not an image").decode()}, "metadata": {}},
        {"output_type": "display_data", "data": {"image/jpeg": png}, "metadata": {}},
        {"output_type": "stream", "name": "stdout", "text": "hi"},
    ]
    images = prepare(outputs, max_px=1024, first=1, slots=4, limit=4)
    assert images.notes[0].startswith("[image/png displayed] (image could not be read:")
    assert len(images.blocks) == 1 and images.notes[1] == "[image/jpeg: image 1, shown below, 300×200 px]"
    assert decoded(images.blocks[0]).format == "JPEG"
    assert 2 not in images.notes


def test_svg_description_is_bounded():
    texts = "".join(f"<text>label number {i} {'x' * 200}</text>" for i in range(100))
    described = describe_svg(f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 5 5'>{texts}</svg>")
    assert len(described) < 1_200 and described.endswith(" …]") and "viewBox 0 0 5 5" in described
    assert describe_svg("<svg><text") == "[image/svg+xml displayed] (it could not be read)"
