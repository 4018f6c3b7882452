"""``with_structured_output`` for agentkit's chat models: JSON decoded under
the schema's grammar (``json_schema``), a forced call to a tool with that
schema (``function_calling``), or any JSON object (``json_mode``)."""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from pydantic import BaseModel


def structured_output(
    model: BaseChatModel,
    schema: dict[str, Any] | type,
    *,
    include_raw: bool = False,
    method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
    **kwargs: Any,
) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
    """``model`` (a ChatLlama: it takes ``json_schema=`` and a forced
    ``tool_choice``) decoding ``schema``, parsed."""
    if kwargs.pop("strict", None) not in (None, True, False):
        raise ValueError("strict must be a bool")
    if kwargs:
        raise ValueError(f"unexpected arguments {sorted(kwargs)}")
    from pydantic.v1 import BaseModel as BaseModelV1

    is_pydantic = isinstance(schema, type) and issubclass(schema, BaseModel | BaseModelV1)
    structured_format = {"kwargs": {"method": method}, "schema": schema}
    if method == "function_calling":
        tool = convert_to_openai_tool(schema)
        name = tool["function"]["name"]
        llm = model.bind_tools(
            [schema],
            tool_choice=name,
            parallel_tool_calls=False,
            ls_structured_output_format=structured_format,
        )

        def pick_args(message: AIMessage) -> Any:
            if not message.tool_calls:
                raise ValueError("the model produced no structured output")
            args = message.tool_calls[0]["args"]
            if not is_pydantic:
                return args
            if issubclass(schema, BaseModel):  # type: ignore[arg-type]
                return schema.model_validate(args)  # type: ignore[union-attr]
            return schema.parse_obj(args)  # type: ignore[union-attr]

        parser: Runnable[Any, Any] = RunnableLambda(pick_args)
    else:
        if method == "json_mode":
            json_schema: dict[str, Any] = {"type": "object"}
        else:
            json_schema = convert_to_json_schema(schema)
        llm = model.bind(json_schema=json_schema, ls_structured_output_format=structured_format)
        if is_pydantic and method == "json_schema":
            parser = PydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type]
        else:
            parser = JsonOutputParser()
    if not include_raw:
        return llm | parser
    parse = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    fallback = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=llm) | parse.with_fallbacks([fallback], exception_key="parsing_error")
