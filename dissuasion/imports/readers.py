"""Reading the bytes of a file into text and rows."""
import csv
import io


class UnreadableFile(ValueError):
    """The file cannot be read as a table; the message says why, in Chinese."""


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (SPEC: an encoding guesser is wrong on short Chinese text)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本，无法读取。"
                             "请从 Excel 另存为 CSV 或 .xlsx 后再导入。") from exc


def csv_rows(data: bytes) -> list[list[str]]:
    """All rows of a CSV file, decoded."""
    text = decode_text(data)
    if "\x00" in text:
        raise UnreadableFile("文件含有二进制内容，不是 CSV 表格。")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise UnreadableFile(f"CSV 格式错误：{exc}") from exc
